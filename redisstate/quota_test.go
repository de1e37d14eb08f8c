package redisstate

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// near reports whether got is within tol of want.
func near(got, want, tol time.Duration) bool { return got >= want-tol && got <= want+tol }

// TestTakeSteps drives one key through a step table. The quota is one
// token per hour, so the seconds a loaded machine may take between steps
// cannot change any answer.
func TestTakeSteps(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: generous})
	ctx := context.Background()
	const perHour = 1.0 / 3600
	const tol = 30 * time.Second
	steps := []struct {
		name    string
		pause   time.Duration // if set, pause the key first
		want    int
		maxWait time.Duration
		tokens  int
		wait    time.Duration // of the grant, or until a token
		paused  time.Duration
	}{
		{name: "burst of 3: take 2", want: 2, tokens: 2},
		{name: "lease of 5 gets the last 1", want: 5, tokens: 1},
		{name: "empty, no wait allowed", want: 1, tokens: 0, wait: time.Hour},
		{name: "empty, reserve within 2h", want: 5, maxWait: 2 * time.Hour, tokens: 1, wait: time.Hour},
		{name: "next slot is 2h away", want: 1, maxWait: time.Hour, tokens: 0, wait: 2 * time.Hour},
		{name: "gate closes: nothing taken", pause: 3 * time.Hour, want: 1, maxWait: 10 * time.Hour, paused: 3 * time.Hour},
		{name: "a shorter pause leaves the longer", pause: time.Minute, want: 1, paused: 3 * time.Hour},
	}
	for _, st := range steps {
		if st.pause > 0 {
			if _, err := s.pause(ctx, "api.example:443", st.pause); err != nil {
				t.Fatalf("%s: pause: %v", st.name, err)
			}
		}
		g, err := s.take(ctx, "api.example:443", perHour, 3, st.want, st.maxWait)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if g.tokens != st.tokens || !near(g.wait, st.wait, tol) || !near(g.paused, st.paused, tol) {
			t.Errorf("%s: got %+v, want tokens %d, wait %v, paused %v", st.name, g, st.tokens, st.wait, st.paused)
		}
	}
}

// TestKeysExpire: the quota key lives until its schedule has caught up
// with the clock (the full burst is back, which an absent key means too),
// the gate key until the pause ends. Nothing needs cleaning up.
func TestKeysExpire(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: generous})
	ctx := context.Background()
	if _, err := s.take(ctx, "h", 1.0/60, 10, 4, 0); err != nil { // 4 tokens of one a minute
		t.Fatal(err)
	}
	if _, err := s.pause(ctx, "h", 90*time.Second); err != nil {
		t.Fatal(err)
	}
	k := s.keys("h", "quota", "gate")
	for i, want := range []time.Duration{4 * time.Minute, 90 * time.Second} {
		ttl, err := rdb.PTTL(ctx, k[i]).Result()
		if err != nil || !near(ttl, want, 10*time.Second) {
			t.Errorf("%s: TTL %v, %v; want about %v", k[i], ttl, err, want)
		}
	}
	// An unlimited rate checks the gate and writes nothing.
	if _, err := s.take(ctx, "free", math.Inf(1), 1, 1, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, s.keys("free", "quota", "gate")...).Result(); n != 0 {
		t.Errorf("unlimited rate wrote %d keys", n)
	}
}

func TestTakeRefusesInvalidQuota(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: generous})
	for _, q := range []struct {
		rate        float64
		burst, want int
	}{{0, 1, 1}, {-1, 1, 1}, {math.NaN(), 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		if _, err := s.take(context.Background(), "k", q.rate, q.burst, q.want, 0); err == nil {
			t.Errorf("rate %v burst %d want %d accepted", q.rate, q.burst, q.want)
		}
	}
}

// TestTakeNeverExceedsQuota hammers one key from many goroutines for half
// a second: the tokens granted never exceed burst + rate × elapsed, however
// the calls interleave (the script is atomic).
func TestTakeNeverExceedsQuota(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: time.Second})
	const rate, burst = 200.0, 10
	ctx := context.Background()
	start := time.Now()
	var granted, calls atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for time.Since(start) < 500*time.Millisecond {
				g, err := s.take(ctx, "k", rate, burst, 1, 0)
				if err != nil {
					t.Error(err)
					return
				}
				calls.Add(1)
				granted.Add(int64(g.tokens))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	limit := burst + rate*elapsed + 1
	t.Logf("%d calls, %d granted in %.3fs (limit %.0f)", calls.Load(), granted.Load(), elapsed, limit)
	if float64(granted.Load()) > limit {
		t.Errorf("granted %d tokens in %.3fs, above burst + rate × elapsed = %.0f", granted.Load(), elapsed, limit)
	}
	if granted.Load() < burst {
		t.Errorf("granted %d, fewer than the burst", granted.Load())
	}
}

// TestReserveLeases: with Lease 4 one round trip takes 4 tokens; the next
// 3 reservations are served locally, and a pause drops what is left.
func TestReserveLeases(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Lease: 4, Timeout: generous})
	ctx := context.Background()
	const perHour = 1.0 / 3600
	for i := range 4 {
		g, err := s.reserve(ctx, "k", perHour, 100, 0)
		if err != nil || g.tokens != 1 {
			t.Fatalf("reservation %d: %+v, %v", i, g, err)
		}
	}
	tat, _ := rdb.Get(ctx, s.keys("k", "quota")[0]).Float64()
	now, _ := rdb.Time(ctx).Result()
	if taken := (tat - float64(now.UnixMicro())) / 3.6e9; math.Abs(taken-4) > 0.1 {
		t.Errorf("the shared schedule shows %.2f tokens taken, want 4 (one round trip)", taken)
	}
	if _, err := s.reserve(ctx, "k", perHour, 100, 0); err != nil {
		t.Fatal(err)
	}
	// Another process pauses the key: this one learns at its next round
	// trip and drops its 3 leased tokens.
	other := newStore(t, rdb, Config{Lease: 4, Timeout: generous})
	if _, err := other.pause(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.leases.add("k", 0, 1, time.Now(), time.Now()) // no-op: nothing to add
	if !s.leases.use("k", time.Now()) {
		t.Fatal("leased tokens gone before the next round trip")
	}
	s.leases.drop("k")
	g, err := s.reserve(ctx, "k", perHour, 100, 0)
	if err != nil || g.tokens != 0 || !near(g.paused, time.Hour, time.Minute) {
		t.Fatalf("after the pause: %+v, %v", g, err)
	}
	if s.leases.use("k", time.Now()) {
		t.Error("a pause left leased tokens")
	}
}

// A quota too slow for an int64 of microseconds per token (the window a
// server announced as a billion years) has the longest interval, not a
// wrapped one: the conversion gave math.MinInt64 on amd64, clamped to a
// 1 µs interval, a million requests a second.
func TestIntervalSaturates(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want int64
	}{
		{3, 333334}, {1e6, 1}, {1e9, 1}, {1e-15, math.MaxInt64}, {math.Inf(1), 0},
	} {
		if got := interval(tt.rate); got != tt.want {
			t.Errorf("interval(%g) = %d, want %d", tt.rate, got, tt.want)
		}
	}
	if got := micros(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("micros(MaxInt64) = %v, want the largest Duration", got)
	}
}
