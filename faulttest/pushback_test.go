package faulttest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// ctxKey is a custom stage's context value.
type ctxKey struct{}

// custom is a user's own stage between hedge and retry: it derives the
// attempt's context, as tracing or auth stages do.
var custom = pipeline.StageFunc(func(next http.RoundTripper) http.RoundTripper {
	return pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		ctx, cancel := context.WithCancel(context.WithValue(req.Context(), ctxKey{}, "mine"))
		defer cancel()
		resp, err := next.RoundTrip(req.WithContext(ctx))
		if err == nil {
			// Read the body here, while ctx lives: a real stage would keep
			// it alive until the caller closes the body.
			resp.Body = http.NoBody
		}
		return resp, err
	})
})

// TestPushbackStopsHedgingInEveryOrder: against an upstream that always
// answers 429 with Retry-After: 1, one caller request sends exactly
// retry's MaxAttempts requests, one per second, and never a hedge, in every
// documented order, with every stage at its recommended zero Config. In
// hedge(retry(...)) the retry stage waits the pause out where the hedge
// cannot see it, so it reports it to the race (internal/attempt.Feedback);
// round 1 sent 6 requests in 2 s there (issue 11, bug 10).
func TestPushbackStopsHedgingInEveryOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage
	}{
		{"hedge→retry→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, r, b}
		}},
		{"retry→hedge→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{r, h, b}
		}},
		{"hedge→custom→retry→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, custom, r, b}
		}},
		{"hedge→retry→custom→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, r, custom, b}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var sentAt []time.Duration
				start := time.Now()
				upstream := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					mu.Lock()
					sentAt = append(sentAt, time.Since(start))
					mu.Unlock()
					// Slower than nothing, faster than the hedge delay.
					if err := testkit.Sleep(req.Context(), 20*time.Millisecond); err != nil {
						return nil, err
					}
					resp := testkit.Respond(req, http.StatusTooManyRequests, "slow down", nil)
					resp.Header.Set("Retry-After", "1")
					return resp, nil
				}}
				h := hedge.New(hedge.Config{})
				r := retry.New(retry.Config{})
				b := breaker.New(breaker.Config{})
				rt := pipeline.NewWithBase(upstream, tc.order(h, r, b)...)
				req, err := http.NewRequest(http.MethodGet, "http://upstream.test/", nil)
				require.NoError(t, err)
				resp, err := rt.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
				time.Sleep(time.Minute)
				synctest.Wait()
				mu.Lock()
				defer mu.Unlock()
				// MaxAttempts requests, each after the server's pause (1 s,
				// spread up to retry.RetryAfterSpread later) and the 20 ms answer.
				require.Len(t, sentAt, 3, "MaxAttempts requests")
				assert.Zero(t, sentAt[0])
				for i := 1; i < len(sentAt); i++ {
					gap := sentAt[i] - sentAt[i-1]
					assert.GreaterOrEqual(t, gap, 1020*time.Millisecond, "request %d", i+1)
					assert.LessOrEqual(t, gap, 1220*time.Millisecond, "request %d", i+1)
				}
				assert.Zero(t, h.Stats().Hedges)
			})
		})
	}
}
