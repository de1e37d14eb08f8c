package throttle

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/internal/hostkey"
)

// TestConfiguredRateSpacesRequests: a configured quota spaces requests
// evenly, however many callers send at once.
func TestConfiguredRateSpacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		var events []Event
		var mu sync.Mutex
		th := New(Config{Rate: 10, OnThrottle: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
		rt := th.Wrap(u)
		start := time.Now()
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { send(context.Background(), rt, "http://a.test/") })
		}
		wg.Wait()
		assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond},
			sorted(u.times(start)))
		st := th.Stats()
		assert.EqualValues(t, 5, st.Admitted)
		assert.EqualValues(t, 4, st.Waited)
		assert.Equal(t, time.Second, st.WaitTime, "0.1 + 0.2 + 0.3 + 0.4 s")
		require.Len(t, events, 4, "one event per delayed request, none for the one sent at once")
		for _, e := range events {
			assert.Equal(t, Pace, e.Reason)
			assert.False(t, e.Rejected)
			assert.Equal(t, "http://a.test:80", e.Host)
			assert.NotNil(t, e.Request)
		}
	})
}

// TestPaceHedgeOnlyWithSpareToken: a hedge is sent only if a token is free
// now; it never queues behind (or ahead of) the requests it backs up.
func TestPaceHedgeOnlyWithSpareToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		th := New(Config{Rate: 1})
		rt := th.Wrap(u)
		start := time.Now()
		_, err := send(context.Background(), rt, "http://a.test/")
		require.NoError(t, err)
		_, err = send(hedgeCtx(context.Background(), 2), rt, "http://a.test/")
		var te *Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, Pace, te.Reason)
		assert.Equal(t, start.Add(time.Second), te.Until)
		assert.Equal(t, time.Duration(0), time.Since(start), "at once")

		time.Sleep(time.Second)
		_, err = send(hedgeCtx(context.Background(), 2), rt, "http://a.test/")
		assert.NoError(t, err, "a spare token: the hedge goes")
		_, err = send(hedgeCtx(context.Background(), 1), rt, "http://a.test/")
		assert.NoError(t, err, "the original of a hedge stage (attempt 1) waits like any request")
		assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second}, u.times(start))
	})
}

// TestPaceRejectsBeyondMaxWait: a request whose turn comes after MaxWait
// is rejected at once with its turn as the hint, and gives its turn back.
func TestPaceRejectsBeyondMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		th := New(Config{Rate: 1, MaxWait: 2 * time.Second})
		rt := th.Wrap(u)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * time.Millisecond)
				_, err := send(context.Background(), rt, "http://a.test/")
				assert.NoError(t, err)
			})
		}
		time.Sleep(10 * time.Millisecond)
		_, err := send(context.Background(), rt, "http://a.test/")
		var te *Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, Pace, te.Reason)
		assert.Equal(t, start.Add(3*time.Second), te.Until, "its turn would have been at 3 s")
		assert.EqualValues(t, 1, th.Stats().RejectedPace)

		// At 1.5 s the next turn is at 3 s, within MaxWait; it would be at
		// 4 s, beyond it, had the rejected request kept its turn.
		time.Sleep(1490 * time.Millisecond)
		_, err = send(context.Background(), rt, "http://a.test/")
		assert.NoError(t, err)
		wg.Wait()
		assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}, sorted(u.times(start)),
			"the rejected request's turn went to the next one")
	})
}

// TestPaceQueueIsShort: under overload the pacing queue holds MaxPaceWait
// of requests; later ones are refused at once with their turn as the hint,
// instead of waiting up to MaxWait for nothing but latency. A slow quota
// still queues four tokens' worth.
func TestPaceQueueIsShort(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantSent  int
		wantWaits time.Duration // the longest wait of a sent request
	}{
		{"100/s: a second deep", Config{Rate: 100}, 101, time.Second},
		{"1/s: four tokens deep", Config{Rate: 1}, 5, 4 * time.Second},
		{"MaxPaceWait raised", Config{Rate: 100, MaxPaceWait: 3 * time.Second}, 301, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = always(u, 200)
				rt := New(tt.cfg).Wrap(u)
				start := time.Now()
				var wg sync.WaitGroup
				var mu sync.Mutex
				refused := 0
				for range 1000 {
					wg.Go(func() {
						_, err := send(context.Background(), rt, "http://a.test/")
						if err != nil {
							var te *Error
							assert.ErrorAs(t, err, &te)
							assert.Equal(t, Pace, te.Reason)
							assert.Greater(t, te.Until.Sub(start), tt.wantWaits, "the hint is the turn it would have had")
							mu.Lock()
							refused++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				times := sorted(u.times(start))
				assert.Len(t, times, tt.wantSent)
				assert.Equal(t, 1000-tt.wantSent, refused)
				assert.LessOrEqual(t, times[len(times)-1], tt.wantWaits)
			})
		})
	}
}

// TestPaceWaitBudget: MaxPaceWait bounds a request's waits for pace
// turns in all. A request that waited for a turn, gave it back when a
// pause closed the gate, and came back after the pause may wait only for
// what is left of it; the request's own limit (MaxWait, its deadline)
// still comes first.
func TestPaceWaitBudget(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		cfg    Config
		waited time.Duration // for pace turns, before now
		limit  time.Duration // the request's limit, from now
		want   time.Duration
	}{
		{"fresh", Config{}, 0, time.Minute, DefaultMaxPaceWait},
		{"after a pause: what is left", Config{}, 600 * time.Millisecond, time.Minute, 400 * time.Millisecond},
		{"all used: a free token only", Config{}, DefaultMaxPaceWait, time.Minute, 0},
		{"the limit comes first", Config{}, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		{"a slow pace queues four tokens in all", Config{Rate: 1}, 3 * time.Second, time.Minute, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := New(tt.cfg)
			w := &waiter{h: th.newHost(hostkey.Key{Host: "a.test"}, now), limit: now.Add(tt.limit)}
			w.waits[Pace] = tt.waited
			assert.Equal(t, tt.want, th.paceWait(w, now))
		})
	}
}

// TestPaceWaitEndsWithContext: a caller canceled while waiting for its turn
// gets ctx.Err() at once, and its turn is given back.
func TestPaceWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 200)
		rt := New(Config{Rate: 1}).Wrap(u)
		start := time.Now()
		send(context.Background(), rt, "http://a.test/")
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(500 * time.Millisecond); cancel() }()
		_, err := send(ctx, rt, "http://a.test/")
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrThrottled)
		assert.Equal(t, 500*time.Millisecond, time.Since(start))
		send(context.Background(), rt, "http://a.test/")
		assert.Equal(t, []time.Duration{0, time.Second}, u.times(start), "the canceled turn was given back")
	})
}

// TestPacerLearns drives the pacer's learning at fixed instants.
func TestPacerLearns(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		configured rate.Limit
		signals    []signal
		wantRate   rate.Limit
		wantBurst  int
		wantTokens float64
	}{
		{"policy: q/w, a bucket of q less the reserve",
			0, []signal{{quota: 100, window: time.Second}}, 100, 90, 90},
		{"remaining caps the tokens, less the reserve",
			0, []signal{{quota: 100, window: time.Second, remaining: 50, hasRemaining: true}}, 100, 90, 40},
		{"below the reserve, no tokens: requests go at the pace only",
			0, []signal{{quota: 100, window: time.Second, remaining: 3, hasRemaining: true}}, 100, 90, 0},
		{"a limit without a window: the longest reset seen",
			0, []signal{{remaining: 10, hasRemaining: true, reset: 60 * time.Second, hasReset: true}, {quota: 60, remaining: 59, hasRemaining: true, reset: 30 * time.Second, hasReset: true}},
			1, 54, 1}, // the bucket made for the first signal had 1 token
		{"a limit's window from resets in whole seconds: the shortest they can be",
			0, []signal{{quota: 100, remaining: 50, hasRemaining: true, reset: 1900 * time.Millisecond, hasReset: true, resetSlack: time.Second}},
			100, 90, 40}, // a 1 s window announced by a Unix-time reset rounded up; read at face value, 52.6/s
		{"a limit and no reset yet: a window of a second",
			0, []signal{{quota: 20}}, 20, 18, 18},
		{"remaining over reset when no quota is announced",
			0, []signal{{remaining: 10, hasRemaining: true, reset: 5 * time.Second, hasReset: true}}, 2, 1, 1},
		{"a configured rate is a ceiling headers cannot raise",
			5, []signal{{quota: 100, window: time.Second}}, 5, 1, 1},
		{"headers can lower a configured rate",
			50, []signal{{quota: 10, window: time.Second}}, 10, 9, 1}, // the configured bucket's 1 token
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(t0, tt.configured, 0)
			for _, s := range tt.signals {
				p.learn(t0, s, false, true, t0, false, false)
			}
			r, b := p.limits()
			assert.Equal(t, tt.wantRate, r)
			assert.Equal(t, tt.wantBurst, b)
			assert.InDelta(t, tt.wantTokens, p.lim.Load().TokensAt(t0), 1e-9)
		})
	}
}

// TestHeadersSilenceAIMD: once a host announced its quota, a 429 without
// headers (a proxy's error page) does not hand its pace to AIMD.
func TestHeadersSilenceAIMD(t *testing.T) {
	t0 := time.Now()
	p := newPacer(t0, 0, 0)
	p.learn(t0, signal{quota: 100, window: time.Second}, false, true, t0, false, false)
	p.learn(t0, signal{}, true, false, t0, false, false)
	r, _ := p.limits()
	assert.Equal(t, rate.Limit(100), r)

	q := newPacer(t0, 0, 0)
	q.sentAt(t0)
	q.learn(t0.Add(time.Second), signal{}, true, false, t0, false, false)
	r, b := q.limits()
	assert.InDelta(t, AIMDFirstDecrease, float64(r), 1e-9, "a host without headers: AIMD cuts the one request per second it saw")
	assert.Equal(t, 1, b)
}

func sorted(ds []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), ds...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var _ http.RoundTripper = (*upstream)(nil)

// TestPacerRestoresAtPauseEnd steps the bucket through a pause: turns
// reserved before it and given back leave a debt, and the pause's end sets
// the bucket to what the host then allows (see pacer.pausedUntil).
func TestPacerRestoresAtPauseEnd(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	end := t0.Add(300 * time.Millisecond)
	tests := []struct {
		name         string
		quota        float64 // a limit header, 1 s windows
		maxRemaining int64
		debt         int  // turns reserved and not given back when the pause began
		quotaBack    bool // the pause is the reset after nothing remained
		at           time.Duration
		wantTokens   float64
	}{
		{"a fixed window's reset: its whole quota, less the reserve", 20, 19, 19, true, 300 * time.Millisecond, 18},
		{"a continuous quota's reset: its burst, less the reserve", 100, 9, 30, true, 300 * time.Millisecond, 0},
		{"another pause: the debt is forgiven", 20, 19, 19, false, 300 * time.Millisecond, 0},
		{"before the pause's end: nothing changes", 20, 19, 19, true, 299 * time.Millisecond, -19 + 0.299*20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(t0, 0, 0)
			p.learn(t0, signal{quota: tt.quota, remaining: tt.maxRemaining, hasRemaining: true}, false, true, t0, false, false)
			p.learn(t0, signal{quota: tt.quota, remaining: 0, hasRemaining: true, reset: 300 * time.Millisecond, hasReset: true}, false, true, t0, false, false)
			require.InDelta(t, 0, p.lim.Load().TokensAt(t0), 1e-9, "remaining 0: no tokens")
			for range tt.debt {
				p.lim.Load().ReserveN(t0, 1)
			}
			p.pausedUntil(t0, end, tt.quotaBack)
			now := t0.Add(tt.at)
			if p.restoring.Load() {
				p.restore(now)
			}
			assert.InDelta(t, tt.wantTokens, p.lim.Load().TokensAt(now), 1e-9)
		})
	}
}

// A rate so slow that four tokens' time exceeds the largest Duration lets
// a request wait for its turn up to its own limit: the float conversion
// overflowed (on amd64, to the most negative Duration), and the bound fell
// back to MaxPaceWait.
func TestPaceWaitAtATinyRate(t *testing.T) {
	now := time.Now()
	th := New(Config{Rate: 1e-12, MaxWait: time.Hour})
	h := th.newHost(hostkey.Key{Host: "a.test"}, now)
	w := waiter{h: h, start: now, limit: now.Add(time.Hour)}
	assert.Equal(t, time.Hour, th.paceWait(&w, now))
}

// TestLoneBare429s steps the pacer through bare 429s to requests that were
// alone in flight (see pacer.sparse): sparse ones, such as a flaky
// upstream's random refusals, start no pacing; a host refusing most of a
// second's requests (at least loneDense) does; and a 429 to a request that
// overlapped others, one asking for a pause, or any 429 once AIMD paces the
// host, cuts as before.
func TestLoneBare429s(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	type answer struct {
		throttled, alone bool
		sig              signal
	}
	ok := answer{alone: true}
	bare := answer{throttled: true, alone: true}
	tests := []struct {
		name    string
		answers []answer // 50 ms apart
		paced   bool
	}{
		{"one in five refused, lone", []answer{ok, ok, ok, ok, bare, ok, ok, ok, ok, bare, ok, ok, ok, ok, bare}, false},
		{"four refused in a row, lone: fewer than loneDense", []answer{bare, bare, bare, bare}, false},
		{"five refused, six served, lone: not most", []answer{ok, ok, ok, bare, ok, bare, ok, bare, ok, bare, bare}, false},
		{"five refused, four served, lone: a quota far below the caller", []answer{ok, bare, ok, bare, ok, bare, ok, bare, bare}, true},
		{"one refusal, overlapping others", []answer{ok, {throttled: true}}, true},
		{"one refusal asking for a pause, lone", []answer{ok, {throttled: true, alone: true, sig: signal{pause: time.Second}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(t0, 0, 0)
			now := t0
			for _, a := range tt.answers {
				now = now.Add(50 * time.Millisecond)
				p.sentAt(now)
				p.learn(now, a.sig, a.throttled, !a.throttled, now, false, a.alone)
			}
			r, _ := p.limits()
			assert.Equal(t, tt.paced, r != rate.Inf, "rate %v", r)
		})
	}

	// Once paced, a lone bare 429 cuts like any other (soon after the last
	// cut, by AIMDDecrease: see TestAIMDBareProbe).
	p := newPacer(t0, 0, 0)
	p.sentAt(t0)
	p.learn(t0, signal{}, true, false, t0, false, false)
	cut, _ := p.limits()
	t1 := t0.Add(time.Second)
	p.learn(t1, signal{}, false, true, t1, false, true)
	p.learn(t1, signal{}, true, false, t1, false, true)
	r, _ := p.limits()
	assert.InDelta(t, float64(cut)*AIMDDecrease, float64(r), 1e-9)
}
