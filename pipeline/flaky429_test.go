package pipeline_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/throttle"
)

// flaky is an upstream that answers a share of requests, at random, with
// a bare 429 (no Retry-After, no rate-limit headers): a flaky upstream, not
// a quota. Every answer takes latency.
type flaky struct {
	share   float64
	latency time.Duration

	mu  sync.Mutex // guards rng
	rng *rand.Rand
}

func (f *flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	refuse := f.rng.Float64() < f.share
	f.mu.Unlock()
	if err := testkit.Sleep(req.Context(), f.latency); err != nil {
		return nil, err
	}
	if refuse {
		return testkit.Respond(req, http.StatusTooManyRequests, "", nil), nil
	}
	return testkit.Respond(req, http.StatusOK, "ok", nil), nil
}

// quantile returns the q-quantile of sorted ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(int(q*float64(len(ds))), len(ds)-1)]
}

// TestFlaky429sAreNoQuota: a caller sending one request at a time for 60 s
// of fake time, to an upstream that answers 20% of requests, at random,
// with a bare 429 (20 ms each), through every documented order with a
// throttle (the recommended hedge→retry→throttle→breaker, the throttle
// inside the breaker, the throttle outside retry, retry outside hedge, and
// the throttle alone). That is a flaky upstream, not a quota: the throttle
// must not pace it as one, and a retry stage inside it retries what it
// refuses. Round 2's AIMD cut the rate at every such 429 and the rate
// spiralled down to ~1/s: in the recommended order the caller waited p50
// 37 ms, p90 0.55 s, p99 0.86 s in the throttle, took p90 0.68 s per
// request, and made 199 requests in the minute (2,159 now).
func TestFlaky429sAreNoQuota(t *testing.T) {
	for order, stages := range throttleOrders {
		t.Run(order, func(t *testing.T) { flakyNoQuota(t, stages) })
	}
}

func flakyNoQuota(t *testing.T, stages func(th *throttle.Throttle) []pipeline.Stage) {
	synctest.Test(t, func(t *testing.T) {
		up := &flaky{share: 0.2, latency: 20 * time.Millisecond, rng: rand.New(rand.NewPCG(1, 2))}
		var waits, took []time.Duration // waits: one per admission or refusal the throttle reported
		th := throttle.New(throttle.Config{OnThrottle: func(e throttle.Event) { waits = append(waits, e.Wait) }})
		client := &http.Client{Transport: pipeline.NewWithBase(up, stages(th)...)}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		ok := 0
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://flaky.test/", nil)
			start := time.Now()
			resp, err := client.Do(req)
			if ctx.Err() != nil {
				break
			}
			took = append(took, time.Since(start))
			if err != nil {
				testkit.Sleep(ctx, 100*time.Millisecond)
				continue
			}
			if resp.StatusCode == http.StatusOK {
				ok++
			}
			resp.Body.Close()
		}
		st := th.Stats()
		for uint64(len(waits)) < st.Admitted+st.Rejected() {
			waits = append(waits, 0) // admitted at once: OnThrottle is not called
		}
		slices.Sort(waits)
		slices.Sort(took)
		t.Logf("%d requests, %d ok; throttle wait p50 %v p90 %v p99 %v; request p50 %v p90 %v p99 %v; pace %+v",
			len(took), ok, quantile(waits, 0.5), quantile(waits, 0.9), quantile(waits, 0.99),
			quantile(took, 0.5), quantile(took, 0.9), quantile(took, 0.99), th.Snapshot())
		if w := quantile(waits, 0.9); w > 200*time.Millisecond {
			t.Errorf("p90 wait in the throttle %v, want at most 200ms: random 429s are no quota", w)
		}
		if d := quantile(took, 0.9); d > 300*time.Millisecond {
			t.Errorf("p90 request %v, want at most 300ms", d)
		}
		if len(took) < 1500 {
			t.Errorf("%d requests in 60 s, want at least 1,500 (a 20 ms upstream, a fifth retried)", len(took))
		}
	})
}
