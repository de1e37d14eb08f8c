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

// TestThrottledBurstAndTheRetryBudget checks what docs/throttle.md says
// of retries and the budget (issue 12, item 8): 20 callers at once meet a
// host that refuses them all, "429, Retry-After: 1". Each retry of a 429
// is charged to the retry budget, also when it then waits at the
// throttle's gate, so the budget's failure gate closes after a few net
// failures and the callers beyond it get the 429 back at once, with its
// Retry-After; a budget with a larger failure gate (MaxTokens: 100)
// retries more of them, and the gate still keeps the upstream from seeing
// a storm: the retries come after the pause, one probe first.
func TestThrottledBurstAndTheRetryBudget(t *testing.T) {
	handedBack := map[string]int{}
	for _, tt := range []struct {
		name   string
		budget *budget.Budget // nil: the retry stage's default
	}{
		{"default budget", nil},
		{"MaxTokens 100", budget.New(budget.Config{MaxTokens: 100})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					testkit.Sleep(req.Context(), 10*time.Millisecond)
					if n > 1 && n <= 21 {
						return tooManyRequests(req)
					}
					return testkit.Respond(req, http.StatusOK, "ok", nil), nil
				}}
				rt := pipeline.NewWithBase(stub, hedge.New(hedge.Config{}), retry.New(retry.Config{Budget: tt.budget}),
					throttle.New(throttle.Config{}), breaker.New(breaker.Config{}))
				get := func() (int, time.Duration) {
					req, _ := http.NewRequest(http.MethodGet, "http://up.test/", nil)
					start := time.Now()
					resp, err := rt.RoundTrip(req)
					if err != nil {
						t.Error(err)
						return 0, 0
					}
					resp.Body.Close()
					return resp.StatusCode, time.Since(start)
				}
				get() // the host's first answer: its debut is over
				var mu sync.Mutex
				back, ok := 0, 0
				var retriedAt []time.Duration
				start := time.Now()
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						status, took := get()
						mu.Lock()
						defer mu.Unlock()
						switch status {
						case http.StatusOK:
							ok++
							retriedAt = append(retriedAt, time.Since(start)) // when it returned
						case http.StatusTooManyRequests:
							back++
							if took != 10*time.Millisecond {
								t.Errorf("a 429 handed back after %v, want at once (its own 10 ms)", took)
							}
						}
					})
				}
				wg.Wait()
				t.Logf("%s: %d callers got the 429 back, %d got 200; upstream received %d", tt.name, back, ok, stub.Calls())
				handedBack[tt.name] = back
				if back+ok != 20 {
					t.Errorf("%d callers got a 429 or a 200, want all 20", back+ok)
				}
				if n := stub.Calls(); n != 1+20+ok {
					t.Errorf("the upstream received %d requests, want the first, the 20 refused and one retry per 200 (%d)", n, 1+20+ok)
				}
				for _, at := range retriedAt {
					if at < time.Second {
						t.Errorf("a retry succeeded %v after the burst, inside the pause", at)
					}
				}
			})
		})
	}
	if handedBack["default budget"] == 0 {
		t.Error("the default budget retried every 429 of the burst; docs/throttle.md says its failure gate hands some back")
	}
	if handedBack["MaxTokens 100"] >= handedBack["default budget"] {
		t.Errorf("MaxTokens 100 handed back %d 429s, the default %d: want fewer", handedBack["MaxTokens 100"], handedBack["default budget"])
	}
}
