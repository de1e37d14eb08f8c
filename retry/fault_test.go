package retry

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Against the shared fault server: a connection reset before the headers
// is retried for a GET (the server saw it, but GET may be sent twice) and
// not for an unkeyed POST; 5xx bursts are retried; a server's Retry-After
// is waited out in full.
func TestFaultServer(t *testing.T) {
	reset := testkit.FaultOf(testkit.FaultResetBeforeHeaders)
	tests := []struct {
		name     string
		method   string
		script   []testkit.Fault
		wantErr  bool
		wantSent int
		minWait  time.Duration
	}{
		{"GET after a reset", http.MethodGet, []testkit.Fault{reset}, false, 2, 0},
		{"unkeyed POST after a reset", http.MethodPost, []testkit.Fault{reset}, true, 1, 0},
		{"GET after 502, 504", http.MethodGet, []testkit.Fault{testkit.FaultStatus(502), testkit.FaultStatus(504)}, false, 3, 0},
		{"GET with a Retry-After of 1 s", http.MethodGet, []testkit.Fault{testkit.FaultThrottle("1")}, false, 2, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultSequence(tt.script...)})
			client := &http.Client{Transport: New(Config{BaseDelay: time.Millisecond}).Wrap(srv.Transport(t))}
			req, err := http.NewRequest(tt.method, srv.URL, strings.NewReader("payload"))
			require.NoError(t, err)
			start := time.Now()
			resp, err := client.Do(req)
			assert.GreaterOrEqual(t, time.Since(start), tt.minWait)
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
			assert.Equal(t, tt.wantSent, srv.Received())
		})
	}
}
