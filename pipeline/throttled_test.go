package pipeline_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
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

// bareQuota is an in-memory upstream that admits limit requests per 1 s
// window and answers the rest with a bare 429, as nginx's limit_req does;
// it counts what it receives, and how many of those were hedges.
type bareQuota struct {
	limit   int
	latency time.Duration

	mu          sync.Mutex // guards the fields below
	window      int64
	used        int
	sent, hedge int
	throttled   int
}

func (q *bareQuota) RoundTrip(req *http.Request) (*http.Response, error) {
	now := time.Now()
	q.mu.Lock()
	if w := now.Unix(); w != q.window {
		q.window, q.used = w, 0
	}
	q.used++
	ok := q.used <= q.limit
	q.sent++
	if hedge.IsHedge(req.Context()) {
		q.hedge++
	}
	if !ok {
		q.throttled++
	}
	q.mu.Unlock()
	if !ok {
		return testkit.Respond(req, http.StatusTooManyRequests, "", nil), nil
	}
	if err := testkit.Sleep(req.Context(), q.latency); err != nil {
		return nil, err
	}
	return testkit.Respond(req, http.StatusOK, "ok", nil), nil
}

// TestThrottledAnswerIsNotHedged: through the recommended pipeline, a bare
// 429 fires no hedge and stops hedging its request; the retry stage
// retries it after its backoff, and nothing else reaches the upstream.
// Round 2's hedge stage fired the next hedge at once on the 429, and the
// throttle, whose AIMD had just made a fresh bucket, sent it.
func TestThrottledAnswerIsNotHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hedges atomic.Int64
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if hedge.IsHedge(req.Context()) {
				hedges.Add(1)
			}
			testkit.Sleep(req.Context(), 5*time.Millisecond)
			if n == 1 {
				return testkit.Respond(req, http.StatusTooManyRequests, "", nil), nil
			}
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		}}
		h := hedge.New(hedge.Config{})
		client := &http.Client{Transport: pipeline.NewWithBase(stub, h, retry.New(retry.Config{}),
			throttle.New(throttle.Config{}), breaker.New(breaker.Config{}))}
		resp, err := client.Get("http://up.test/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d, want the retry's 200", resp.StatusCode)
		}
		if n := hedges.Load(); n != 0 || h.Stats().Hedges != 0 {
			t.Errorf("%d hedges reached the upstream, %d were launched; want none", n, h.Stats().Hedges)
		}
		if n := stub.Calls(); n != 2 {
			t.Errorf("the upstream received %d requests, want the original and its retry", n)
		}
	})
}

// TestThrottledUpstreamIsNotHedged is the recommended pipeline against a
// bare-429 upstream (20 requests per 1 s window), 20 callers in a closed
// loop for 20 s on the fake clock. A 429 is pushback: it fires no hedge,
// stops hedging its request, and keeps hedges away from its host for
// throttle.HedgeHoldoff, so the hedges the timer launches for originals
// waiting in the throttle are refused there and none reaches the upstream.
// (A user's loopback run of round 2 counted 194 hedges among 442 requests
// to such an upstream, 53% of which were refused.)
func TestThrottledUpstreamIsNotHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &bareQuota{limit: 20, latency: 10 * time.Millisecond}
		h := hedge.New(hedge.Config{})
		client := &http.Client{Transport: pipeline.NewWithBase(q, h, retry.New(retry.Config{}),
			throttle.New(throttle.Config{}), breaker.New(breaker.Config{}))}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var calls atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://up.test/", nil)
					calls.Add(1)
					resp, err := client.Do(req)
					if err != nil {
						testkit.Sleep(ctx, 100*time.Millisecond) // refused: back off
						continue
					}
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		q.mu.Lock()
		defer q.mu.Unlock()
		t.Logf("caller requests %d; upstream received %d, %d hedges, %d 429s; hedge stats %+v",
			calls.Load(), q.sent, q.hedge, q.throttled, h.Stats())
		if q.hedge > q.sent/100 {
			t.Errorf("%d of the %d requests the upstream received were hedges, want at most 1%%", q.hedge, q.sent)
		}
	})
}
