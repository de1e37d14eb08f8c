package pipeline_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// TestReplicaHedgeEscapesAStallInPipeline: hedge's
// TestAdaptiveReplicaHedgeEscapesAStall through the documented orders
// (the recommended ones, with and without a throttle, the throttle last,
// and retry outside hedge). An adaptive hedge stage over replicas a, b and c learns each
// one's delay from 400 requests at 10 ms; then a stalls (its originals
// answer in 500 ms) and 200 requests round the three arrive over 400 ms.
// Every request to a overruns its delay, but its hedges go to b and c,
// which are calm: none may be put off by a's hedge rate, and each of a's
// 67 requests is rescued. Before 59d519f a's rate put the hedges off and
// its requests waited out the stall.
func TestReplicaHedgeEscapesAStallInPipeline(t *testing.T) {
	orders := map[string]func(h *hedge.Hedger) []pipeline.Stage{
		"hedge→retry→breaker": func(h *hedge.Hedger) []pipeline.Stage {
			return []pipeline.Stage{h, retry.New(retry.Config{}), breaker.New(breaker.Config{})}
		},
		"hedge→retry→throttle→breaker": func(h *hedge.Hedger) []pipeline.Stage {
			return []pipeline.Stage{h, retry.New(retry.Config{}), throttle.New(throttle.Config{}), breaker.New(breaker.Config{})}
		},
		"hedge→retry→breaker→throttle": func(h *hedge.Hedger) []pipeline.Stage {
			return []pipeline.Stage{h, retry.New(retry.Config{}), breaker.New(breaker.Config{}), throttle.New(throttle.Config{})}
		},
		"retry→hedge→breaker": func(h *hedge.Hedger) []pipeline.Stage {
			return []pipeline.Stage{retry.New(retry.Config{}), h, breaker.New(breaker.Config{})}
		},
	}
	for order, stages := range orders {
		t.Run(order, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				stalled := false
				isStalled := func(host string) bool {
					mu.Lock()
					defer mu.Unlock()
					return stalled && host == "a.test"
				}
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					d := 10 * time.Millisecond
					if isStalled(req.URL.Hostname()) {
						d = 500 * time.Millisecond
					}
					if err := testkit.Sleep(req.Context(), d); err != nil {
						return nil, err
					}
					return testkit.Respond(req, http.StatusOK, "ok", nil), nil
				}}
				h := hedge.New(hedge.Config{
					Budget:   budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e9, MaxTokens: budget.MaxTokensLimit}),
					Replicas: hedge.Replicas{Addrs: []string{"a.test:80", "b.test:80", "c.test:80"}},
				})
				rt := pipeline.NewWithBase(stub, stages(h)...)
				get := func(target string) {
					req, _ := http.NewRequest(http.MethodGet, target, nil)
					resp, err := rt.RoundTrip(req)
					if err != nil {
						t.Errorf("GET %s: %v", target, err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("GET %s: status %d", target, resp.StatusCode)
					}
				}
				hosts := []string{"a.test", "b.test", "c.test"}
				for i := range 400 {
					get("http://" + hosts[i%3] + "/x")
					synctest.Wait()
				}
				before := h.Stats()
				if before.Deferred != 0 {
					t.Fatalf("%d hedges put off while every replica was calm", before.Deferred)
				}

				mu.Lock()
				stalled = true
				mu.Unlock()
				var slowest time.Duration
				var wg sync.WaitGroup
				for i := range 200 {
					host := hosts[i%3]
					wg.Go(func() {
						start := time.Now()
						get("http://" + host + "/x")
						if host == "a.test" {
							mu.Lock()
							slowest = max(slowest, time.Since(start))
							mu.Unlock()
						}
					})
					time.Sleep(2 * time.Millisecond)
				}
				wg.Wait()
				synctest.Wait()
				st := h.Stats()
				deferred, wins := st.Deferred-before.Deferred, st.HedgeWins-before.HedgeWins
				t.Logf("after the stall: %d hedges, %d put off, %d won; slowest request to a %v",
					st.Hedges-before.Hedges, deferred, wins, slowest)
				if deferred != 0 {
					t.Errorf("%d hedges bound for calm replicas put off by the stalled replica's rate", deferred)
				}
				if wins < 67 {
					t.Errorf("%d hedges won, want at least a's 67 requests rescued", wins)
				}
				if slowest >= 100*time.Millisecond {
					t.Errorf("slowest request to the stalled replica took %v, want under 100ms", slowest)
				}
			})
		})
	}
}
