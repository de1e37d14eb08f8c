package breaker

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// TestLateOutcomesFromEarlierGeneration is issue 11's bug 5: 20 slow 504s
// admitted before a trip land after a probe has closed the breaker again.
// They belong to a state that is over: they must not count in the fresh
// window, or 10 successes and 1 new failure would re-open a host that
// recovered (21 failures of 32 ≥ 50%). Counts must not show them either,
// neither while they are in flight nor once they have settled.
func TestLateOutcomesFromEarlierGeneration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		status := http.StatusInternalServerError // what the fast path answers
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			if req.URL.Path == "/slow" {
				if err := testkit.Sleep(req.Context(), 30*time.Second); err != nil {
					return nil, err
				}
				return testkit.Respond(req, http.StatusGatewayTimeout, "", nil), nil
			}
			mu.Lock()
			defer mu.Unlock()
			return testkit.Respond(req, status, "", nil), nil
		}}
		setStatus := func(s int) { mu.Lock(); status = s; mu.Unlock() }
		b := New(Config{})
		rt := b.Wrap(stub)
		get := func(path string) (int, error) { return send(t.Context(), rt, "http://a.test"+path) }

		var slow sync.WaitGroup
		for range 20 {
			slow.Go(func() { get("/slow") })
		}
		synctest.Wait() // all 20 admitted, in flight
		for range DefaultConsecutiveFailures {
			get("/")
		}
		if st := b.StateOf(hostA); st != Open {
			t.Fatalf("after %d failures: %v", DefaultConsecutiveFailures, st)
		}
		time.Sleep(DefaultOpenTimeout + time.Nanosecond)
		setStatus(http.StatusOK)
		if code, err := get("/"); err != nil || code != http.StatusOK {
			t.Fatalf("probe: %d, %v", code, err)
		}
		if st := b.StateOf(hostA); st != Closed {
			t.Fatalf("after a successful probe: %v", st)
		}
		if c := counts(t, b); c.Requests != 0 {
			t.Errorf("Counts after closing, with 20 requests of an earlier state in flight: %+v, want none counted", c)
		}
		for range 10 {
			get("/")
		}
		slow.Wait() // the 20 late 504s land in the closed state
		if c := counts(t, b); c.Failures != 0 || c.Requests != 10 {
			t.Errorf("Counts after the late 504s settled: %+v, want 10 successes and nothing else", c)
		}
		setStatus(http.StatusInternalServerError)
		get("/")
		if st := b.StateOf(hostA); st != Closed {
			t.Errorf("1 failure in 11 re-opened the breaker (%v): late outcomes of an earlier state counted; %+v", st, b.Snapshot())
		}
	})
}

// counts returns hostA's counts.
func counts(t *testing.T, b *Breaker) Counts {
	t.Helper()
	for _, s := range b.Snapshot() {
		if s.Key == hostA {
			return s.Counts
		}
	}
	t.Fatalf("%s not tracked: %+v", hostA, b.Snapshot())
	return Counts{}
}
