package pipeline_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// TestNoPauseAskedBacksOff: a dead load balancer answers every request
// "503, Retry-After: 0" (or a date already past). That asks for no pause,
// so it is a failure like any other: in every order, the stages back off
// from it — a failure may fire the hedge at once, as any failure does,
// but no instant sees more than the original and that hedge, and retries
// come a backoff apart. In round 2 the retry stage took the 0 for the
// server's wait: through hedge(retry) the host got four attempts back to
// back.
func TestNoPauseAskedBacksOff(t *testing.T) {
	const base = 25 * time.Millisecond
	stages := func() map[string][]pipeline.Stage {
		r := func() pipeline.Stage {
			return retry.New(retry.Config{Jitter: retry.NoJitter, BaseDelay: base})
		}
		h := func() pipeline.Stage { return hedge.New(hedge.Config{Delay: time.Second}) }
		b := func() pipeline.Stage { return breaker.New(breaker.Config{ConsecutiveFailures: 100}) }
		return map[string][]pipeline.Stage{
			"retry":                        {r()},
			"hedge→retry":                  {h(), r()},
			"hedge→retry→breaker":          {h(), r(), b()},
			"hedge→retry→throttle→breaker": {h(), r(), throttle.New(throttle.Config{}), b()},
			"retry→hedge→breaker":          {r(), h(), b()},
		}
	}
	for _, value := range []string{"0", "Fri, 31 Dec 1999 23:00:00 GMT"} {
		for name, ss := range stages() {
			t.Run(name+"/Retry-After: "+value, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var mu sync.Mutex
					var arrivals []time.Duration
					start := time.Now()
					lb := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
						mu.Lock()
						arrivals = append(arrivals, time.Since(start))
						mu.Unlock()
						resp := testkit.Respond(req, http.StatusServiceUnavailable, "", nil)
						resp.Header.Set("Retry-After", value)
						return resp, nil
					})
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://lb.test/", nil)
					resp, err := pipeline.NewWithBase(lb, ss...).RoundTrip(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if len(arrivals) < 3 {
						t.Fatalf("%d attempts, want retries: %v", len(arrivals), arrivals)
					}
					at := map[time.Duration]int{}
					for i, a := range arrivals {
						at[a]++
						if at[a] > 2 {
							t.Errorf("%d attempts at %v: %v", at[a], a, arrivals)
						}
						if i > 0 && a != arrivals[i-1] && a-arrivals[i-1] < base {
							t.Errorf("attempts %v apart, less than a backoff: %v", a-arrivals[i-1], arrivals)
						}
					}
				})
			})
		}
	}
}
