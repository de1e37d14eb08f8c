package throttle

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// memShared is an in-memory Shared for synctest bubbles: one token bucket
// and one gate per key, as a Redis store keeps them, on the bubble's fake
// clock. Two Throttles on one memShared are two processes of a fleet. The
// real implementation (redisstate) is tested against a real Redis.
type memShared struct {
	mu       sync.Mutex // guards the fields below
	lims     map[string]*rate.Limiter
	gates    map[string]time.Time
	failing  bool // every call fails, as with Redis down
	procs    int  // the fleet's size it reports
	reserves int
	maxWaits []time.Duration
}

var errStoreDown = errors.New("store down")

func (m *memShared) Reserve(_ context.Context, key string, q Quota, maxWait time.Duration) (Reservation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reserves++
	m.maxWaits = append(m.maxWaits, maxWait)
	if m.failing {
		return Reservation{}, errStoreDown
	}
	now := time.Now()
	if until := m.gates[key]; now.Before(until) {
		return Reservation{Paused: until.Sub(now)}, nil
	}
	if q.Rate == rate.Inf {
		return Reservation{OK: true}, nil
	}
	if m.lims == nil {
		m.lims = map[string]*rate.Limiter{}
	}
	lim := m.lims[key]
	if lim == nil {
		lim = rate.NewLimiter(q.Rate, q.Burst)
		m.lims[key] = lim
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > maxWait {
		r.CancelAt(now)
		return Reservation{Delay: d, Processes: m.procs}, nil
	}
	return Reservation{OK: true, Delay: d, Processes: m.procs}, nil
}

func (m *memShared) Pause(_ context.Context, key string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errStoreDown
	}
	if m.gates == nil {
		m.gates = map[string]time.Time{}
	}
	if until := time.Now().Add(d); until.After(m.gates[key]) {
		m.gates[key] = until
	}
	return nil
}

func (m *memShared) set(failing bool) {
	m.mu.Lock()
	m.failing = failing
	m.mu.Unlock()
}

func (m *memShared) calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reserves
}

// offer sends n requests to url through rt, one every gap, each on its own
// goroutine (open loop), and waits for all; it returns how many failed
// with an error other than a throttle's refusal.
func offer(rt http.RoundTripper, url string, n int, gap time.Duration) (errs int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range n {
		wg.Go(func() {
			if _, err := send(context.Background(), rt, url); err != nil && !errors.Is(err, ErrThrottled) {
				mu.Lock()
				errs++
				mu.Unlock()
			}
		})
		time.Sleep(gap)
	}
	wg.Wait()
	return errs
}

// TestSharedQuota: two throttles ("processes") configured with a quota of
// 10/s each offer it 10/s for 10 s. Sharing one store, they send the quota
// together, each about half; alone, each sends its own 10/s.
func TestSharedQuota(t *testing.T) {
	for _, tc := range []struct {
		name     string
		shared   bool
		min, max int
	}{
		{"shared", true, 100, 101},
		{"local", false, 200, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = always(u, 200)
				store := &memShared{}
				per := [2]int{}
				var wg sync.WaitGroup
				for p := range 2 {
					cfg := Config{Rate: 10, MaxWait: 50 * time.Millisecond}
					if tc.shared {
						cfg.Shared = store
					}
					rt := New(cfg).Wrap(u)
					wg.Go(func() {
						before := u.count()
						assert.Zero(t, offer(rt, "http://api.test/", 100, 100*time.Millisecond))
						per[p] = u.count() - before
					})
				}
				wg.Wait()
				total := u.count()
				assert.GreaterOrEqual(t, total, tc.min)
				assert.LessOrEqual(t, total, tc.max, "10 s at 10/s, plus the burst of 1")
				if tc.shared {
					assert.Equal(t, 200, store.calls(), "one call per request")
				}
			})
		})
	}
}

// TestSharedPause: a pause one process receives closes the gate in the
// other at its next call to the store; while its gate is closed locally
// the other process makes no call at all, and nothing reaches the host
// before the pause ends.
func TestSharedPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		u := &upstream{}
		u.answer = pausedOnce(u)
		store := &memShared{}
		a := New(Config{Shared: store}).Wrap(u)
		b := New(Config{Shared: store, MaxWait: time.Second}).Wrap(u)

		status, err := send(context.Background(), a, "http://api.test/")
		require.NoError(t, err)
		require.Equal(t, 429, status)

		_, err = send(context.Background(), b, "http://api.test/")
		var te *Error
		require.ErrorAs(t, err, &te, "b learns the pause from the store and cannot wait 5 s")
		assert.Equal(t, Gate, te.Reason)
		assert.Equal(t, start.Add(5*time.Second), te.Until)
		calls := store.calls()
		for range 10 {
			_, err = send(context.Background(), b, "http://api.test/")
			require.ErrorIs(t, err, ErrThrottled)
		}
		assert.Equal(t, calls, store.calls(), "no call while the gate is known closed")

		time.Sleep(5 * time.Second)
		status, err = send(context.Background(), b, "http://api.test/")
		require.NoError(t, err)
		assert.Equal(t, 200, status)
		assert.Equal(t, []time.Duration{0, 5 * time.Second}, u.times(start))
	})
}

// TestSharedStoreFailure: a store that fails never fails a request: each
// request uses the local bucket at once, the outage is logged once, and
// sharing resumes (logged once) when the store answers again. A blip, a
// failed call followed by one answered within outage.LogAfter, is no
// outage and logs nothing.
func TestSharedStoreFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		store := &memShared{}
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))
		rt := New(Config{Rate: 10, MaxWait: 200 * time.Millisecond, Shared: store, Logger: logger}).Wrap(u)

		assert.Zero(t, offer(rt, "http://api.test/", 10, 100*time.Millisecond))
		store.set(true)
		assert.Zero(t, offer(rt, "http://api.test/", 2, 100*time.Millisecond), "a blip")
		store.set(false)
		assert.Zero(t, offer(rt, "http://api.test/", 1, 100*time.Millisecond))
		store.set(true)
		assert.Zero(t, offer(rt, "http://api.test/", 30, 100*time.Millisecond), "no caller error while the store is down")
		store.set(false)
		assert.Zero(t, offer(rt, "http://api.test/", 10, 100*time.Millisecond))
		assert.Equal(t, 53, u.count(), "every request sent: paced locally while the store was down")

		want := `level=WARN msg="shared state unavailable; using local state until it answers" stage=throttle event=shared_unavailable host=http://api.test:80 error="store down"
level=INFO msg="shared state answering again; sharing resumed" stage=throttle event=shared_resumed host=http://api.test:80
`
		assert.Equal(t, want, logs.String())
	})
}

// TestSharedHedgeNeverWaits: a hedge asks the store for a token it may
// not wait for (maxWait 0) and is refused if the fleet has none now.
func TestSharedHedgeNeverWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		store := &memShared{}
		rt := New(Config{Rate: 1, Shared: store}).Wrap(u)
		_, err := send(context.Background(), rt, "http://api.test/")
		require.NoError(t, err, "the bucket's one token")
		_, err = send(hedgeCtx(context.Background(), 2), rt, "http://api.test/")
		require.ErrorIs(t, err, ErrThrottled)
		// The original may wait as deep as the pacing queue goes (four
		// tokens at 1/s, more than DefaultMaxPaceWait); the hedge not at all.
		assert.Equal(t, []time.Duration{4 * time.Second, 0}, store.maxWaits)
		assert.Equal(t, 1, u.count())
	})
}

// TestSharedFallbackShare: while the store fails, each process of a fleet
// paces itself at its share of the quota (the rate over the fleet's size,
// as the store last reported), so the fleet stays near the quota; a store
// that never said how many processes share it leaves each process its own
// bucket, and the fleet sends the quota once per process.
func TestSharedFallbackShare(t *testing.T) {
	for _, tc := range []struct {
		name     string
		procs    int
		min, max int
	}{
		{"share known", 2, 148, 154},
		{"share unknown", 0, 196, 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = always(u, 200)
				store := &memShared{procs: tc.procs}
				var wg sync.WaitGroup
				for range 2 {
					rt := New(Config{Rate: 10, MaxWait: 50 * time.Millisecond, Shared: store}).Wrap(u)
					wg.Go(func() {
						assert.Zero(t, offer(rt, "http://api.test/", 150, 100*time.Millisecond))
					})
				}
				time.Sleep(5 * time.Second)
				store.set(true)
				time.Sleep(5 * time.Second)
				store.set(false)
				wg.Wait()
				// 5 s shared + 5 s on local state + 5 s shared, at 10/s:
				// 150, or 200 if each process paced at the whole quota
				// while the store was down.
				assert.GreaterOrEqual(t, u.count(), tc.min)
				assert.LessOrEqual(t, u.count(), tc.max)
			})
		})
	}
}

// TestSharedFallbackAfterTurns: a loaded fleet holds turns in the shared
// schedule up to MaxWait ahead. When the store fails for every process at
// once (Redis stalled or down), the requests holding those turns still go
// at them, so each process's share of the quota begins only after its
// last turn: the upstream sees the quota, not the turns already granted
// plus every process's share on top of them (17-18 in the busiest second
// before, for a quota of 10/s; now 11-12).
func TestSharedFallbackAfterTurns(t *testing.T) {
	times := overloadedFleet(t, func(store *memShared) {
		time.Sleep(5 * time.Second)
		store.set(true)
	})
	// From 1 s on (the first second holds the buckets' bursts): at most
	// the quota and half of it. Each process's share (5/s) begins after
	// its own last turn, but the turns the fleet held when the store
	// failed need not be split evenly: a process whose last turn was at
	// 5.4 s paces its share from 5.6 s while the other still sends the
	// turns it held up to 6 s (13 or 14 in the second after the failure
	// in about one run in 15: goroutine order decides who held which
	// turns). Neither can know the other's turns once the store is gone;
	// what each process does not do is send its share on top of its own
	// held turns (that made 20).
	assert.LessOrEqual(t, busiestSecond(times, time.Second, 8*time.Second), 15, "requests in the busiest second, quota 10/s")
	assert.GreaterOrEqual(t, len(times), 70, "the quota used, about 10/s for 8 s")
}

// TestSharedFallbackEndsWithOutage: when the store answers again after an
// outage, the requests still waiting for turns of their process's share
// ask the fleet's schedule instead, which starts afresh and knows nothing
// of those turns: the upstream sees the quota, not the shares' turns on
// top of the schedule's (20 in the busiest second after the outage
// before, for a quota of 10/s).
func TestSharedFallbackEndsWithOutage(t *testing.T) {
	times := overloadedFleet(t, func(store *memShared) {
		time.Sleep(3 * time.Second)
		store.set(true)
		time.Sleep(2 * time.Second)
		store.set(false)
	})
	// As in TestSharedFallbackAfterTurns.
	assert.LessOrEqual(t, busiestSecond(times, 4*time.Second, 7*time.Second), 15,
		"requests in the busiest second around the store's return, quota 10/s")
}

// overloadedFleet runs, on the fake clock, two throttles ("processes",
// Rate 10, MaxWait 1 s) sharing a memShared that reports a fleet of 2,
// each offering 20 requests/s for 8 s, so that each holds turns up to a
// second ahead; faults toggles the store's failures meanwhile. It returns
// when the upstream received each request, from the start.
func overloadedFleet(t *testing.T, faults func(*memShared)) (times []time.Duration) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		store := &memShared{procs: 2}
		start := time.Now()
		var wg sync.WaitGroup
		for range 2 {
			rt := New(Config{Rate: 10, MaxWait: time.Second, Shared: store}).Wrap(u)
			wg.Go(func() {
				assert.Zero(t, offer(rt, "http://api.test/", 160, 50*time.Millisecond))
			})
		}
		faults(store)
		wg.Wait()
		times = u.times(start)
	})
	return times
}

// busiestSecond returns the most of times in any second that starts
// between from and to, in steps of 10 ms.
func busiestSecond(times []time.Duration, from, to time.Duration) int {
	busiest := 0
	for ; from < to; from += 10 * time.Millisecond {
		n := 0
		for _, at := range times {
			if at >= from && at < from+time.Second {
				n++
			}
		}
		busiest = max(busiest, n)
	}
	return busiest
}

// slowShared answers its first Reserve after answerIn, granting a turn
// delay after the call began, and every later one at once, with a token
// free now.
type slowShared struct {
	answerIn, delay time.Duration

	mu    sync.Mutex // guards calls
	calls int
}

func (s *slowShared) Reserve(context.Context, string, Quota, time.Duration) (Reservation, error) {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		time.Sleep(s.answerIn)
		return Reservation{OK: true, Delay: s.delay, Processes: 1}, nil
	}
	return Reservation{OK: true, Processes: 1}, nil
}

func (s *slowShared) Pause(context.Context, string, time.Duration) error { return nil }

// TestSharedMissedTurn: a request that takes its turn in the fleet's
// schedule more than the slack late (one emission interval, at least
// 20 ms: here the store's answer came 35 ms after the turn it granted, as
// when the process was descheduled) asks the schedule again rather than
// going together with the turns after it; a request late by less goes.
func TestSharedMissedTurn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		answerIn  time.Duration
		wantCalls int
	}{
		{"35 ms late: asks again", 40 * time.Millisecond, 2},
		{"10 ms late: goes", 15 * time.Millisecond, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = always(u, 200)
				store := &slowShared{answerIn: tc.answerIn, delay: 5 * time.Millisecond}
				rt := New(Config{Rate: 100, Shared: store}).Wrap(u)
				_, err := send(context.Background(), rt, "http://api.test/")
				require.NoError(t, err)
				assert.Equal(t, tc.wantCalls, store.calls, "calls to the store")
				assert.Equal(t, 1, u.count(), "requests sent")
			})
		})
	}
}
