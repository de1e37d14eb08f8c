package breaker

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// panicOn418 is a classifier with a bug: it panics on a 418.
type panicOn418 struct{ idempotency.Classifier }

func (p panicOn418) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.StatusCode == http.StatusTeapot {
		panic("classifier bug")
	}
	return p.Classifier.Classify(req, resp, err)
}

// Whatever panics during a half-open probe — the state-change hook, a
// custom classifier — must release the probe slot: gobreaker's half-open
// state has no expiry, so a lost slot would refuse the key forever.
func TestPanicDuringProbeReleasesSlot(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		probeStatus int
	}{
		{"hook panics on half-open", Config{OnStateChange: func(c StateChange) {
			if c.To == HalfOpen {
				panic("hook bug")
			}
		}}, http.StatusOK},
		{"classifier panics on the probe's answer", Config{Classifier: panicOn418{idempotency.Default}}, http.StatusTeapot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := newStatusStub(http.StatusServiceUnavailable)
				tt.cfg.ConsecutiveFailures, tt.cfg.OpenTimeout = 1, time.Second
				b := New(tt.cfg)
				rt := b.Wrap(stub)
				get := func() (err error) {
					defer func() { _ = recover() }() // as net/http's server recovers handlers
					_, err = send(t.Context(), rt, "http://x.test/")
					return err
				}
				get() // 503: opens
				time.Sleep(2 * time.Second)
				stub.status.Store(int64(tt.probeStatus))
				get() // the probe; something panics
				stub.status.Store(http.StatusOK)
				time.Sleep(time.Hour)
				if err := get(); err != nil {
					t.Errorf("an hour after the panic the key still refuses: %v", err)
				}
			})
		})
	}
}

// panicStub answers 502 while mode is 0, panics on the request numbered
// panicAt (counted from the moment mode turned 1, after latency), and
// answers 200 otherwise; every body is tracked.
type panicStub struct {
	*testkit.Stub
	mode    atomic.Int32
	calls   atomic.Int32
	panicAt int32
	tr      testkit.Tracker
}

func newPanicStub(panicAt int32) *panicStub {
	s := &panicStub{panicAt: panicAt}
	s.Stub = &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		if s.mode.Load() == 0 {
			return testkit.Respond(req, http.StatusBadGateway, "down", &s.tr), nil
		}
		n := s.calls.Add(1)
		if err := testkit.Sleep(req.Context(), latency); err != nil {
			return nil, err
		}
		if n == s.panicAt {
			panic("transport bug")
		}
		return testkit.Respond(req, http.StatusOK, "ok", &s.tr), nil
	}}
	return s
}

// sendRecovering is send, recovering a panic as net/http's server
// recovers a handler's.
func sendRecovering(ctx context.Context, rt http.RoundTripper, url string) (code int, p any, err error) {
	defer func() { p = recover() }()
	code, err = send(ctx, rt, url)
	return code, nil, err
}

// A probe of a key back from the graveyard that panics gives its probe
// slot back: the parole gate counted it in and never out, so the key
// refused every request as "half-open, probe in flight" forever.
func TestPanicDuringParoleProbeReleasesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newPanicStub(2)
		b := New(Config{ConsecutiveFailures: 1, MaxKeys: 1})
		rt := b.Wrap(s)
		send(t.Context(), rt, "http://a.test/") // opens
		time.Sleep(DefaultOpenTimeout + time.Second)
		s.mode.Store(1)
		send(t.Context(), rt, "http://other.test/") // request 1: evicts a.test, which goes on parole
		if _, p, _ := sendRecovering(t.Context(), rt, "http://a.test/"); p != "transport bug" {
			t.Fatalf("the probe did not panic: %v", p)
		}
		time.Sleep(time.Minute)
		if code, err := send(t.Context(), rt, "http://a.test/"); err != nil || code != 200 {
			t.Errorf("a minute after the panicking probe: %d %v, want the key probed again", code, err)
		}
	})
}

// A waiter let in by a MaxWait wave that panics still settles its place in
// the wave: the next wave starts when the rest of this one has settled,
// instead of every other waiter stalling until its MaxWait ran out.
func TestPanicInWaveReleasesTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newPanicStub(2) // 1 is the probe; 2 is the first wave's only member
		b := New(Config{ConsecutiveFailures: 1, MaxWait: 10 * time.Second})
		rt := b.Wrap(s)
		send(t.Context(), rt, "http://a.test/") // opens
		s.mode.Store(1)
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var took []time.Duration
		for range 6 {
			wg.Go(func() {
				_, p, _ := sendRecovering(t.Context(), rt, "http://a.test/")
				if p == nil {
					mu.Lock()
					took = append(took, time.Since(start))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(took) != 5 {
			t.Fatalf("%d callers got an answer, want 5 (one panicked)", len(took))
		}
		for _, d := range took {
			if d > DefaultOpenTimeout+time.Second {
				t.Errorf("a waiter answered %v after the breaker opened (open period %v): stalled until MaxWait", d, DefaultOpenTimeout)
			}
		}
		if n := s.tr.Open(); n != 0 {
			t.Errorf("%d response bodies left open", n)
		}
	})
}

// A probe that panics wakes the requests waiting (MaxWait) for its
// outcome: the slot is free, and the next of them probes at once rather
// than at the end of its wait.
func TestPanicDuringProbeWakesWaiters(t *testing.T) {
	for _, parole := range []bool{false, true} {
		t.Run(fmt.Sprint("parole=", parole), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newPanicStub(1)
				c := Config{ConsecutiveFailures: 1, MaxWait: 10 * time.Minute, OpenTimeout: time.Second}
				if parole {
					c.MaxKeys = 1
					s.panicAt = 2
				}
				b := New(c)
				rt := b.Wrap(s)
				send(t.Context(), rt, "http://a.test/") // opens until 1 s
				if parole {
					s.mode.Store(1)
					send(t.Context(), rt, "http://other.test/") // evicts a.test, which goes on parole
				}
				s.mode.Store(1)
				start := time.Now()
				var wg sync.WaitGroup
				var mu sync.Mutex
				var took []time.Duration
				for range 2 {
					wg.Go(func() {
						if _, p, err := sendRecovering(t.Context(), rt, "http://a.test/"); p == nil && err == nil {
							mu.Lock()
							took = append(took, time.Since(start))
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				if len(took) != 1 || took[0] > 2*time.Second {
					t.Errorf("the waiter behind the panicking probe answered after %v, want within a second of the probe", took)
				}
			})
		})
	}
}

// A hook or logger that panics delivering a transition the request's
// own outcome caused (HalfOpen → Closed after a successful probe, in
// gobreaker or on parole) panics the caller, and the response it will
// never see is closed on the way out.
func TestPanicDeliveringTransitionClosesResponse(t *testing.T) {
	for _, parole := range []bool{false, true} {
		t.Run(fmt.Sprint("parole=", parole), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newPanicStub(0)
				c := Config{ConsecutiveFailures: 1, OnStateChange: func(c StateChange) {
					if c.To == Closed {
						panic("hook bug")
					}
				}}
				if parole {
					c.MaxKeys = 1
				}
				b := New(c)
				rt := b.Wrap(s)
				send(t.Context(), rt, "http://a.test/") // opens
				time.Sleep(DefaultOpenTimeout + time.Second)
				s.mode.Store(1)
				if parole {
					send(t.Context(), rt, "http://other.test/") // evicts a.test, which goes on parole
				}
				if _, p, _ := sendRecovering(t.Context(), rt, "http://a.test/"); p != "hook bug" {
					t.Fatalf("the hook's panic did not reach the caller: %v", p)
				}
				if n := s.tr.Open(); n != 0 {
					t.Errorf("%d response bodies left open", n)
				}
			})
		})
	}
}

// A Fleet whose Observe panics (a bug in a user's implementation) panics
// the request that polled, and the key is polled again later: the
// polling flag was left set, and the key never asked the fleet again.
func TestPanickingFleetIsPolledAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &countingFleet{}
		f.panicking.Store(true)
		b := New(Config{Fleet: f, FleetPoll: time.Second})
		rt := b.Wrap(newStatusStub(http.StatusOK))
		if _, p, _ := sendRecovering(t.Context(), rt, "http://a.test/"); p != "fleet bug" {
			t.Fatalf("the fleet's panic did not reach the caller: %v", p)
		}
		f.panicking.Store(false)
		time.Sleep(2 * time.Second)
		send(t.Context(), rt, "http://a.test/")
		if n := f.observed.Load(); n != 2 {
			t.Errorf("Observe called %d times, want 2: the key was never polled again", n)
		}
	})
}

// countingFleet counts Observe calls, and panics in them while panicking.
type countingFleet struct {
	panicking atomic.Bool
	observed  atomic.Int32
}

func (f *countingFleet) Report(context.Context, string, bool, time.Duration) error { return nil }
func (f *countingFleet) Observe(context.Context, string, time.Duration, bool) (FleetView, error) {
	f.observed.Add(1)
	if f.panicking.Load() {
		panic("fleet bug")
	}
	return FleetView{Newest: -1}, nil
}
