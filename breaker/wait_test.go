package breaker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// upstream is a stub that answers 502 until it is healed, then 200, each
// after latency, and records the most requests it had in flight. The host
// other.test is always healthy.
type upstream struct {
	*testkit.Stub
	healed   atomic.Bool
	inflight atomic.Int64
	peak     atomic.Int64
}

const latency = 10 * time.Millisecond

func newUpstream() *upstream {
	u := &upstream{}
	u.Stub = &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		n := u.inflight.Add(1)
		defer u.inflight.Add(-1)
		for p := u.peak.Load(); n > p && !u.peak.CompareAndSwap(p, n); p = u.peak.Load() {
		}
		if err := testkit.Sleep(req.Context(), latency); err != nil {
			return nil, err
		}
		if u.healed.Load() || req.URL.Host == "other.test" {
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		}
		return testkit.Respond(req, http.StatusBadGateway, "down", nil), nil
	}}
	return u
}

// tripped returns a breaker over u whose key is open, and when it opened.
func tripped(t *testing.T, u *upstream, c Config) (*Breaker, http.RoundTripper, time.Time) {
	t.Helper()
	b := New(c)
	rt := b.Wrap(u)
	for range DefaultConsecutiveFailures {
		send(t.Context(), rt, "http://a.test/")
	}
	if st := b.StateOf(hostA); st != Open {
		t.Fatalf("breaker %v after %d failures", st, DefaultConsecutiveFailures)
	}
	return b, rt, time.Now()
}

// callers sends n GETs at once through rt and returns each one's status
// (0 for an error), error and duration.
func callers(ctx context.Context, rt http.RoundTripper, n int) ([]int, []error, []time.Duration) {
	codes, errs, took := make([]int, n), make([]error, n), make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			codes[i], errs[i] = send(ctx, rt, "http://a.test/")
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	return codes, errs, took
}

// TestMaxWaitZeroFailsFast: by default nobody waits for an open breaker.
func TestMaxWaitZeroFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		_, rt, _ := tripped(t, u, Config{})
		sent := u.Calls()
		_, errs, took := callers(t.Context(), rt, 20)
		for i := range errs {
			if !errors.Is(errs[i], ErrOpen) || took[i] != 0 {
				t.Errorf("caller %d: %v after %v, want ErrOpen at once", i, errs[i], took[i])
			}
		}
		if u.Calls() != sent {
			t.Errorf("%d requests sent to an open breaker", u.Calls()-sent)
		}
	})
}

// TestMaxWaitRecovery is the opt-in half of issue 11's bug 11: 20 callers
// meet an open breaker and wait for it. When the open period ends one
// probe goes; it succeeds, and the others are let through in growing
// waves (1, 2, 4, 8, then the last 4), never all at once onto the host
// that has just recovered, and none of them fails after waiting.
func TestMaxWaitRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		_, rt, opened := tripped(t, u, Config{MaxWait: 10 * time.Second})
		u.healed.Store(true)
		u.peak.Store(0)
		sent := u.Calls()
		codes, errs, took := callers(t.Context(), rt, 20)
		for i := range codes {
			if codes[i] != http.StatusOK {
				t.Errorf("caller %d: %d, %v after %v; want 200", i, codes[i], errs[i], took[i])
			}
		}
		if n := u.Calls() - sent; n != 20 {
			t.Errorf("%d requests sent, want 20 (each caller once)", n)
		}
		if p := u.peak.Load(); p != 8 {
			t.Errorf("at most %d requests in flight at once, want waves peaking at 8", p)
		}
		// The probe at the end of the open period, then 5 waves.
		if end, want := time.Since(opened), DefaultOpenTimeout+time.Nanosecond+6*latency; end != want {
			t.Errorf("the last caller finished %v after the trip, want %v", end, want)
		}
	})
}

// TestMaxWaitProbeFails: when the probe fails, the key opens for another
// OpenTimeout. Waiters whose wait ends before that are refused at once
// then, not after waiting it out; the probe, whose caller gets its 502, is
// the only request sent.
func TestMaxWaitProbeFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		_, rt, _ := tripped(t, u, Config{MaxWait: 7 * time.Second})
		sent := u.Calls()
		codes, errs, took := callers(t.Context(), rt, 20)
		probes := 0
		for i := range errs {
			if codes[i] == http.StatusBadGateway {
				probes++
				continue
			}
			var oe *OpenError
			if !errors.As(errs[i], &oe) || oe.State != Open {
				t.Errorf("caller %d: %d, %v; want an open refusal", i, codes[i], errs[i])
			}
			if want := DefaultOpenTimeout + time.Nanosecond + latency; took[i] != want {
				t.Errorf("caller %d refused after %v, want %v (when the probe failed)", i, took[i], want)
			}
		}
		if n := u.Calls() - sent; n != 1 || probes != 1 {
			t.Errorf("%d requests sent, %d callers got the 502; want the 1 probe", n, probes)
		}
	})
}

// TestMaxWaitRefusedUpFront: a wait that cannot succeed is not started:
// the key is open past MaxWait, or past the caller's deadline.
func TestMaxWaitRefusedUpFront(t *testing.T) {
	tests := []struct {
		name     string
		maxWait  time.Duration
		deadline time.Duration // 0: none
	}{
		{"open period outlasts MaxWait", time.Second, 0},
		{"open period outlasts the deadline", time.Minute, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := newUpstream()
				_, rt, _ := tripped(t, u, Config{MaxWait: tc.maxWait})
				ctx := t.Context()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				body := &closeTracker{Reader: strings.NewReader("x")}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://a.test/", body)
				start := time.Now()
				_, err := rt.RoundTrip(req)
				if !errors.Is(err, ErrOpen) || time.Since(start) != 0 {
					t.Errorf("%v after %v, want ErrOpen at once", err, time.Since(start))
				}
				if !body.closed.Load() {
					t.Error("request body not closed")
				}
			})
		})
	}
}

// A caller that gives up while waiting gets its context's error at once,
// its body closed, nothing sent.
func TestMaxWaitCallerCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		_, rt, _ := tripped(t, u, Config{MaxWait: time.Minute})
		sent := u.Calls()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		body := &closeTracker{Reader: strings.NewReader("x")}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://a.test/", body)
		start := time.Now()
		_, err := rt.RoundTrip(req)
		if !errors.Is(err, context.Canceled) || time.Since(start) != time.Second {
			t.Errorf("%v after %v, want context.Canceled after 1s", err, time.Since(start))
		}
		if !body.closed.Load() || u.Calls() != sent {
			t.Errorf("body closed %v, %d sent; want closed, nothing sent", body.closed.Load(), u.Calls()-sent)
		}
	})
}

// A request meeting a half-open key whose probe is in flight waits for the
// probe's outcome instead of being refused.
func TestMaxWaitForProbeInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		b, rt, _ := tripped(t, u, Config{MaxWait: time.Second})
		time.Sleep(DefaultOpenTimeout + time.Nanosecond)
		u.healed.Store(true)
		var wg sync.WaitGroup
		wg.Go(func() { send(t.Context(), rt, "http://a.test/") }) // the probe
		synctest.Wait()
		if st := b.StateOf(hostA); st != HalfOpen {
			t.Fatalf("with the probe in flight: %v", st)
		}
		start := time.Now()
		code, err := send(t.Context(), rt, "http://a.test/")
		if code != http.StatusOK || time.Since(start) != 2*latency {
			t.Errorf("%d, %v after %v; want 200 once the probe closed the key (%v), then its own %v",
				code, err, time.Since(start), latency, latency)
		}
		wg.Wait()
	})
}

// closeTracker is a request body that records whether it was closed.
type closeTracker struct {
	*strings.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// A probe that settles excluded (its caller gave up) frees its slot
// without a state change; a request waiting for the probe takes the slot
// at once instead of at the end of its wait.
func TestMaxWaitExcludedProbeFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		b, rt, _ := tripped(t, u, Config{MaxWait: time.Minute})
		time.Sleep(DefaultOpenTimeout + time.Nanosecond)
		u.healed.Store(true)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { send(ctx, rt, "http://a.test/") }) // the probe, abandoned below
		synctest.Wait()
		if st := b.StateOf(hostA); st != HalfOpen {
			t.Fatalf("with the probe in flight: %v", st)
		}
		time.AfterFunc(time.Millisecond, cancel)
		start := time.Now()
		code, err := send(t.Context(), rt, "http://a.test/")
		if code != http.StatusOK || time.Since(start) != time.Millisecond+latency {
			t.Errorf("%d, %v after %v; want 200 once the abandoned probe freed its slot (1ms), then %v",
				code, err, time.Since(start), latency)
		}
		wg.Wait()
	})
}

// waitClock is an attempt.Waiter that records when waits begin and end.
type waitClock struct {
	mu     sync.Mutex // guards events
	events []string
	start  time.Time
}

func (w *waitClock) note(what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, what+" "+time.Since(w.start).String())
}

func (w *waitClock) WaitBegin() { w.note("begin") }
func (w *waitClock) WaitEnd()   { w.note("end") }

// TestMaxWaitReported: a request waiting for its key to admit it reports
// the wait to an enclosing attempt.Waiter (a retry stage's attempt timeout,
// which must not count it), from its arrival to the open period's end; a
// caller that gives up ends it too.
func TestMaxWaitReported(t *testing.T) {
	for name, cancelAt := range map[string]time.Duration{"admitted": 0, "caller cancels": time.Second} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := newUpstream()
				_, rt, _ := tripped(t, u, Config{MaxWait: 10 * time.Second})
				u.healed.Store(true)
				w := &waitClock{start: time.Now()}
				ctx := attempt.WithWaiter(t.Context(), w)
				if cancelAt > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx) // no deadline: it would be refused up front
					defer time.AfterFunc(cancelAt, cancel).Stop()
				}
				_, err := send(ctx, rt, "http://a.test/")
				if cancelAt > 0 {
					assert.ErrorIs(t, err, context.Canceled)
					assert.Equal(t, []string{"begin 0s", "end 1s"}, w.events)
					return
				}
				assert.NoError(t, err)
				// Woken at the open period's end (+1ns: the first instant
				// a probe is admitted), it goes as the probe.
				assert.Equal(t, []string{"begin 0s", "end " + (DefaultOpenTimeout + time.Nanosecond).String()}, w.events)
			})
		})
	}
}
