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

// A retried 503 whose body stalls after the headers is drained for at most
// httpx.DrainTimeout, and that time counts toward the backoff: the retry
// goes out at max(backoff, DrainTimeout), not once the body ends. Round 1
// drained it before backing off with no time bound, so the retry waited as
// long as the body stalled (issue 11, bug 3).
func TestStalledErrorBodyBoundedBeforeBackoff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backoff time.Duration
		want    time.Duration
	}{
		{"backoff shorter than the drain bound", time.Millisecond, httpx.DrainTimeout},
		{"backoff longer: the drain adds nothing", 2 * time.Second, 2 * time.Second},
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
				assert.Equal(t, tc.want, time.Since(start))
				assert.True(t, stalled.Closed())
			})
		})
	}
}
