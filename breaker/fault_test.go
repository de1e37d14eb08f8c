package breaker

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Against the shared fault server, per fault: what trips the breaker (resets,
// black holes cut by a client timeout, 5xx) and what never does (429s,
// final 4xx), counted by what the server received: once open, nothing more
// reaches it.
func TestFaultServer(t *testing.T) {
	reset := testkit.FaultOf(testkit.FaultResetBeforeHeaders)
	tests := []struct {
		name      string
		fault     testkit.Fault
		wantTrips bool
	}{
		{"reset before headers", reset, true},
		{"black hole past the client timeout", testkit.FaultOf(testkit.FaultBlackHole), true},
		{"503", testkit.FaultStatus(http.StatusServiceUnavailable), true},
		{"429 with Retry-After", testkit.FaultThrottle("30"), false},
		{"404", testkit.FaultStatus(http.StatusNotFound), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultAlways(tt.fault)})
			b := New(Config{ConsecutiveFailures: 3, OpenTimeout: time.Hour})
			timeout := 10 * time.Second // generous: only the black hole should reach it
			if tt.fault.Kind == testkit.FaultBlackHole {
				// Long enough for the request to reach the server on a
				// loaded machine (at 50 ms a timeout could fire before the
				// request arrived: 2 received, not 3), short enough that
				// three of them keep the test quick.
				timeout = 500 * time.Millisecond
			}
			client := &http.Client{Transport: b.Wrap(srv.Transport(t)), Timeout: timeout}
			var refused int
			for range 6 {
				resp, err := client.Get(srv.URL)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if errors.Is(err, ErrOpen) {
					refused++
				}
			}
			if tt.wantTrips {
				require.Equal(t, Open, b.StateOf(srv.URL))
				// At most: a black-holed request the client gave up on before
				// it arrived still counts as a failure.
				assert.LessOrEqual(t, srv.Received(), 3, "once open, nothing reaches the server")
				assert.Equal(t, 3, refused)
			} else {
				assert.Equal(t, Closed, b.StateOf(srv.URL))
				assert.Equal(t, 6, srv.Received())
				assert.Zero(t, refused)
			}
		})
	}
}
