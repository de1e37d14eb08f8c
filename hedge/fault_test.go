package hedge

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Against the shared fault server: a black-holed original is beaten by
// its hedge and then released (the server sees the cancellation); a reset
// or a 503 fires the hedge at once; a 429 with Retry-After stops hedging
// and is returned.
//
// Only the black hole needs the hedge timer, and the server holding the
// original guarantees it fires. Elsewhere the delay is longer than any
// loopback answer takes, so that only the failure can fire the hedge: with
// 20 ms, a 429 slower than that on a loaded machine was hedged by the
// timer before its Retry-After was seen.
func TestFaultServer(t *testing.T) {
	const never = time.Minute
	tests := []struct {
		name       string
		first      testkit.Fault
		delay      time.Duration
		wantStatus int
		wantSent   int
	}{
		{"black hole", testkit.FaultOf(testkit.FaultBlackHole), 20 * time.Millisecond, http.StatusOK, 2},
		{"reset before headers", testkit.FaultOf(testkit.FaultResetBeforeHeaders), never, http.StatusOK, 2},
		{"503", testkit.FaultStatus(http.StatusServiceUnavailable), never, http.StatusOK, 2},
		{"429 with Retry-After", testkit.FaultThrottle("30"), never, http.StatusTooManyRequests, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultSequence(tt.first)})
			h := New(Config{Delay: tt.delay})
			client := &http.Client{Transport: h.Wrap(srv.Transport(t))}
			start := time.Now()
			resp, err := client.Get(srv.URL)
			require.NoError(t, err)
			if tt.delay == never {
				assert.Less(t, time.Since(start), never/2, "the hedge waited for its timer")
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantSent, srv.Received())
			deadline := time.Now().Add(5 * time.Second)
			for srv.InFlight() > 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			assert.Zero(t, srv.InFlight(), "the losing attempt was not released")
		})
	}
}
