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
func TestFaultServer(t *testing.T) {
	tests := []struct {
		name       string
		first      testkit.Fault
		wantStatus int
		wantSent   int
	}{
		{"black hole", testkit.FaultOf(testkit.FaultBlackHole), http.StatusOK, 2},
		{"reset before headers", testkit.FaultOf(testkit.FaultResetBeforeHeaders), http.StatusOK, 2},
		{"503", testkit.FaultStatus(http.StatusServiceUnavailable), http.StatusOK, 2},
		{"429 with Retry-After", testkit.FaultThrottle("30"), http.StatusTooManyRequests, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultSequence(tt.first)})
			h := New(Config{Delay: 20 * time.Millisecond})
			client := &http.Client{Transport: h.Wrap(srv.Transport(t))}
			resp, err := client.Get(srv.URL)
			require.NoError(t, err)
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
