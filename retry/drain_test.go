package retry

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/testkit"
)

// A retried 503 whose body stalls after the headers is drained during the
// backoff, never beyond it: the retry goes out when the backoff ends, and
// the stalled body is closed in the background within
// httpx.DrainTimeout. Round 1 drained it before backing off with no time
// bound (issue 11, bug 3); round 2 bounded the drain by DrainTimeout, but
// still before the retry: with the default 25 ms backoff the first retry
// went out at 500 ms.
func TestStalledErrorBodyNeverDelaysRetry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backoff time.Duration
	}{
		{"backoff shorter than the drain bound", DefaultBaseDelay},
		{"backoff longer than the drain bound", 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stalled := testkit.NewStalledBody()
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					if n == 1 {
						resp := testkit.Respond(req, 503, "", nil)
						resp.Body = stalled
						return resp, nil
					}
					return testkit.Respond(req, 200, "ok", nil), nil
				}}
				cfg := quiet(Config{BaseDelay: tc.backoff, MaxDelay: tc.backoff, Jitter: NoJitter})
				start := time.Now()
				resp, err := New(cfg).Wrap(stub).RoundTrip(newReq(t, t.Context(), "GET", ""))
				require.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
				resp.Body.Close()
				assert.Equal(t, tc.backoff, time.Since(start), "the retry went out when the backoff ended")
				time.Sleep(httpx.DrainTimeout)
				synctest.Wait()
				assert.True(t, stalled.Closed(), "the stalled body closed within DrainTimeout")
			})
		})
	}
}
