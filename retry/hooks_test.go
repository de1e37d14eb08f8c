package retry

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/idempotency"
)

// OnRetry fires once per retry, before the wait, on the caller's
// goroutine, with the failed attempt's details, and after its response was
// closed.
func TestOnRetryInfo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), step{err: errReset}, retryAfter(429, "2"), status(200))
		var infos []RetryInfo
		var openAtHook []int
		req := newReq(t, t.Context(), "GET", "")
		cfg := quiet(Config{MaxAttempts: 4, OnRetry: func(i RetryInfo) {
			infos = append(infos, i)
			openAtHook = append(openAtHook, s.tr.Open())
		}})
		resp, err := New(cfg).Wrap(s).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Len(t, infos, 3)
		for i, info := range infos {
			assert.Same(t, req, info.Request)
			assert.Equal(t, i+1, info.Attempt)
		}
		assert.Equal(t, RetryInfo{Request: req, Attempt: 1, Delay: DefaultBaseDelay,
			Outcome: idempotency.Outcome{Kind: idempotency.Transient}, StatusCode: http.StatusServiceUnavailable}, infos[0])
		assert.Equal(t, RetryInfo{Request: req, Attempt: 2, Delay: 2 * DefaultBaseDelay,
			Outcome: idempotency.Outcome{Kind: idempotency.Transient}, Err: errReset}, infos[1])
		assert.GreaterOrEqual(t, infos[2].Delay, 2*time.Second, "the server's wait, spread")
		assert.LessOrEqual(t, infos[2].Delay, spread(2*time.Second, 1))
		infos[2].Delay = 0
		assert.Equal(t, RetryInfo{Request: req, Attempt: 3, ServerDelay: true,
			Outcome: idempotency.Outcome{Kind: idempotency.Throttled}, StatusCode: http.StatusTooManyRequests}, infos[2])
		assert.Equal(t, []int{0, 0, 0}, openAtHook, "the failed response is closed before the hook")
	})
}
