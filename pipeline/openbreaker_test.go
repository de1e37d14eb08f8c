package pipeline_test

import (
	"errors"
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

// orders are the documented orders of the stages around a breaker, each
// built over base with b innermost.
var orders = []struct {
	name  string
	build func(base http.RoundTripper, b *breaker.Breaker) http.RoundTripper
}{
	{"hedge→retry→breaker", func(base http.RoundTripper, b *breaker.Breaker) http.RoundTripper {
		return pipeline.NewWithBase(base, hedge.New(hedge.Config{}), retry.New(retry.Config{}), b)
	}},
	{"retry→hedge→breaker", func(base http.RoundTripper, b *breaker.Breaker) http.RoundTripper {
		return pipeline.NewWithBase(base, retry.New(retry.Config{}), hedge.New(hedge.Config{}), b)
	}},
	{"hedge→retry→throttle→breaker", func(base http.RoundTripper, b *breaker.Breaker) http.RoundTripper {
		return pipeline.NewWithBase(base, hedge.New(hedge.Config{}), retry.New(retry.Config{}), throttle.New(throttle.Config{}), b)
	}},
	{"breaker alone", func(base http.RoundTripper, b *breaker.Breaker) http.RoundTripper {
		return pipeline.NewWithBase(base, b)
	}},
}

// TestOpenBreakerFailsFastInEveryOrder is issue 11's bug 11: with the
// default configuration, 20 callers meeting an open breaker each get
// ErrOpen at once — no time passes on the fake clock — in every documented
// order, and nothing is sent. The retry stage used to wait out the open
// period (5 s fits MaxRetryAfter), then most callers lost the race for
// the single probe slot and failed anyway.
func TestOpenBreakerFailsFastInEveryOrder(t *testing.T) {
	for _, order := range orders {
		t.Run(order.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					return testkit.Respond(req, http.StatusBadGateway, "down", nil), nil
				}}
				b := breaker.New(breaker.Config{})
				for range breaker.DefaultConsecutiveFailures {
					get(t, b.Wrap(stub))
				}
				if st := b.StateOf("http://up.test:80"); st != breaker.Open {
					t.Fatalf("breaker %v after %d failures", st, breaker.DefaultConsecutiveFailures)
				}
				sent := stub.Calls()
				rt := order.build(stub, b)

				var wg sync.WaitGroup
				errs := make([]error, 20)
				took := make([]time.Duration, 20)
				for i := range errs {
					wg.Go(func() {
						start := time.Now()
						_, errs[i] = get(t, rt)
						took[i] = time.Since(start)
					})
				}
				wg.Wait()
				for i, err := range errs {
					if !errors.Is(err, breaker.ErrOpen) {
						t.Errorf("caller %d: %v, want ErrOpen", i, err)
					}
					if took[i] >= time.Millisecond {
						t.Errorf("caller %d waited %v for ErrOpen, want it at once", i, took[i])
					}
				}
				if n := stub.Calls() - sent; n != 0 {
					t.Errorf("%d requests sent to an open breaker's host", n)
				}
			})
		})
	}
}

// get sends a GET to up.test through rt and returns the status or error.
func get(t *testing.T, rt http.RoundTripper) (int, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://up.test/", nil)
	if err != nil {
		return 0, err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestOpenBreakerOptInWait is the opt-in half of bug 11: with
// breaker.Config.MaxWait, 20 callers meeting an open breaker in a composed
// pipeline wait inside the breaker for the probe, and once it succeeds all
// of them get their 200 — none fails after the wait — while the host that
// has just recovered never sees the herd at once.
func TestOpenBreakerOptInWait(t *testing.T) {
	for _, order := range orders {
		t.Run(order.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var healed atomic.Bool
				var inflight, peak atomic.Int64
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					n := inflight.Add(1)
					defer inflight.Add(-1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					if err := testkit.Sleep(req.Context(), 10*time.Millisecond); err != nil {
						return nil, err
					}
					if healed.Load() {
						return testkit.Respond(req, http.StatusOK, "ok", nil), nil
					}
					return testkit.Respond(req, http.StatusBadGateway, "down", nil), nil
				}}
				b := breaker.New(breaker.Config{MaxWait: 10 * time.Second})
				for range breaker.DefaultConsecutiveFailures {
					get(t, b.Wrap(stub))
				}
				healed.Store(true)
				peak.Store(0)
				rt := order.build(stub, b)

				var wg sync.WaitGroup
				codes := make([]int, 20)
				errs := make([]error, 20)
				for i := range codes {
					wg.Go(func() { codes[i], errs[i] = get(t, rt) })
				}
				wg.Wait()
				for i := range codes {
					if codes[i] != http.StatusOK {
						t.Errorf("caller %d: %d, %v; want 200 after waiting for the probe", i, codes[i], errs[i])
					}
				}
				// The room holds the 20 originals alone — a waiting request
				// stops its hedge stage from hedging it (in round 2 the
				// hedges its timer fired joined the room, and waves reached
				// 16) — let through in waves of 1, 2, 4, 8 and the last 4.
				if p := peak.Load(); p > 8 {
					t.Errorf("%d requests in flight at once at the recovered host, want waves of at most 8", p)
				}
			})
		})
	}
}

// TestBreakerWaitStopsHedging: a request waiting in the breaker for its
// probe (Config.MaxWait, opt-in) is reported to an enclosing hedge as a
// pause, as a throttle's closed gate is: no hedge fires while it waits,
// where in round 2 the hedge's timer fired one that only waited beside it
// in the same room and went to the recovering host in the same wave.
func TestBreakerWaitStopsHedging(t *testing.T) {
	builds := []struct {
		name  string
		build func(base http.RoundTripper, h *hedge.Hedger, b *breaker.Breaker) http.RoundTripper
	}{
		{"hedge→breaker", func(base http.RoundTripper, h *hedge.Hedger, b *breaker.Breaker) http.RoundTripper {
			return pipeline.NewWithBase(base, h, b)
		}},
		{"hedge→retry→breaker", func(base http.RoundTripper, h *hedge.Hedger, b *breaker.Breaker) http.RoundTripper {
			return pipeline.NewWithBase(base, h, retry.New(retry.Config{}), b)
		}},
		{"hedge→retry→throttle→breaker", func(base http.RoundTripper, h *hedge.Hedger, b *breaker.Breaker) http.RoundTripper {
			return pipeline.NewWithBase(base, h, retry.New(retry.Config{}), throttle.New(throttle.Config{}), b)
		}},
	}
	for _, bd := range builds {
		t.Run(bd.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var healed atomic.Bool
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					if err := testkit.Sleep(req.Context(), 10*time.Millisecond); err != nil {
						return nil, err
					}
					if healed.Load() {
						return testkit.Respond(req, http.StatusOK, "ok", nil), nil
					}
					return testkit.Respond(req, http.StatusBadGateway, "down", nil), nil
				}}
				b := breaker.New(breaker.Config{MaxWait: 10 * time.Second, ConsecutiveFailures: 1})
				get(t, b.Wrap(stub)) // opens for DefaultOpenTimeout
				healed.Store(true)
				before := stub.Calls()
				h := hedge.New(hedge.Config{Delay: 20 * time.Millisecond})
				code, err := get(t, bd.build(stub, h, b))
				if code != http.StatusOK {
					t.Fatalf("%d, %v: want 200 after waiting for the probe", code, err)
				}
				if n := h.Stats().Hedges; n != 0 {
					t.Errorf("%d hedges fired while the original waited for the breaker", n)
				}
				if n := stub.Calls() - before; n != 1 {
					t.Errorf("%d requests reached the host, want the probe alone", n)
				}
			})
		})
	}
}
