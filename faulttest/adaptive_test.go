package faulttest_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
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
	"github.com/tailguard/tailguard/throttle"
)

// reqKey carries a request's index, so that the upstream's draws depend on
// which try of which attempt of which request it is, not on arrival order.
type reqKey struct{}

// TestAdaptiveLearnsOneTryInEveryOrder: against an upstream where a try
// fails with a 503 in 1 ms 20% of the time, stalls for 1 s 3% of the
// time, and otherwise answers in 10 ms, the adaptive hedge's delay settles
// at the p95 of one try to a good answer — the 10 ms bucket — in every
// documented order, the recommended pipeline.New(hedge, retry, throttle,
// breaker) included, with every stage at its zero Config. Round 1 learnt the
// whole retried operation in hedge(retry(...)) (backoff included) and the
// fast 503s everywhere else.
func TestAdaptiveLearnsOneTryInEveryOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage
	}{
		{"hedge→retry→throttle→breaker (recommended)", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, r, throttle.New(throttle.Config{}), b}
		}},
		{"hedge→retry→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, r, b}
		}},
		{"hedge→custom→retry→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, custom, r, b}
		}},
		{"retry→hedge→breaker", func(h *hedge.Hedger, r *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{r, h, b}
		}},
		{"hedge→breaker", func(h *hedge.Hedger, _ *retry.Retrier, b *breaker.Breaker) []pipeline.Stage {
			return []pipeline.Stage{h, b}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				upstream := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					ctx := req.Context()
					i := ctx.Value(reqKey{}).(int)
					r := rand.New(rand.NewPCG(uint64(i), uint64(hedge.CopyFrom(ctx)<<8|retry.AttemptFrom(ctx))))
					switch u := r.Float64(); {
					case u < 0.2:
						return answerAfter(req, time.Millisecond, http.StatusServiceUnavailable)
					case u < 0.23:
						return answerAfter(req, time.Second, http.StatusOK)
					}
					return answerAfter(req, 10*time.Millisecond, http.StatusOK)
				}}
				var mu sync.Mutex
				var delays []time.Duration // of the hedges fired on their timer, after warm-up
				i := 0
				h := hedge.New(hedge.Config{OnHedge: func(info hedge.HedgeInfo) {
					mu.Lock()
					defer mu.Unlock()
					if info.Reason == hedge.ReasonDelay && i >= 200 {
						delays = append(delays, info.Elapsed)
					}
				}})
				rt := pipeline.NewWithBase(upstream, tc.order(h, retry.New(retry.Config{}), breaker.New(breaker.Config{}))...)
				for n := range 400 {
					mu.Lock()
					i = n
					mu.Unlock()
					ctx, cancel := context.WithCancel(context.WithValue(context.Background(), reqKey{}, n))
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://upstream.test/", nil)
					require.NoError(t, err)
					if resp, err := rt.RoundTrip(req); err == nil {
						resp.Body.Close()
					}
					cancel()
					synctest.Wait()
				}
				mu.Lock()
				defer mu.Unlock()
				require.NotEmpty(t, delays, "stalls were hedged on the timer")
				slices.Sort(delays)
				median := delays[len(delays)/2]
				assert.GreaterOrEqual(t, median, 10*time.Millisecond)
				assert.LessOrEqual(t, median, 10500*time.Microsecond, "the 10 ms bucket's upper edge; delays %v", delays)
			})
		})
	}
}

// answerAfter answers req with status after d, or with the context's error
// if it is canceled first.
func answerAfter(req *http.Request, d time.Duration, status int) (*http.Response, error) {
	if err := testkit.Sleep(req.Context(), d); err != nil {
		return nil, err
	}
	return testkit.Respond(req, status, http.StatusText(status), nil), nil
}
