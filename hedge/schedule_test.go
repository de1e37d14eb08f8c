package hedge

import (
	"math"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

func TestSLO(t *testing.T) {
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{950 * ms}, SLO(time.Second, 0.95))
	assert.Equal(t, []time.Duration{500 * ms, 750 * ms, 950 * ms}, SLO(time.Second, 0.5, 0.75, 0.95))
	assert.Equal(t, []time.Duration{time.Second}, SLO(time.Second, 1))
	assert.Equal(t, []time.Duration{30 * ms}, SLO(100*ms, 0.3))
}

func TestSLOPanics(t *testing.T) {
	tests := []struct {
		target    time.Duration
		fractions []float64
		want      string
	}{
		{0, []float64{0.5}, "hedge: SLO target must be positive, got 0s"},
		{time.Second, nil, "hedge: SLO fractions must hold 1 to 10 values, got 0"},
		{time.Second, make([]float64, 11), "hedge: SLO fractions must hold 1 to 10 values, got 11"},
		{time.Second, []float64{0}, "hedge: SLO fractions[0] must be in (0, 1], got 0"},
		{time.Second, []float64{0.5, 1.5}, "hedge: SLO fractions[1] must be in (0, 1], got 1.5"},
		{time.Second, []float64{0.9, 0.5}, "hedge: SLO fractions must be strictly increasing, got 0.5 after 0.9"},
		{2, []float64{0.1, 0.2}, "hedge: SLO result[0] must be positive, got 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, func() { SLO(tt.target, tt.fractions...) })
		})
	}
}

func TestScheduleAt(t *testing.T) {
	ms := time.Millisecond
	fixed := schedule{mode: modeFixed, step: 10 * ms, hedges: 3}
	assert.Equal(t, 30*ms, fixed.at(3, fixed.base(nil, time.Now())))
	sched := schedule{mode: modeSchedule, delays: []time.Duration{5 * ms, 7 * ms}, hedges: 2}
	assert.Equal(t, 7*ms, sched.at(2, 0))
	adaptive := schedule{mode: modeAdaptive, step: 40 * ms, min: ms, max: 100 * ms, quantile: 0.5, hedges: 2}
	now := time.Now()
	e := newEstimator(now, nil)
	assert.Equal(t, 40*ms, adaptive.base(e, now), "warm-up delay until MinSamples")
	for range MinSamples {
		e.record(time.Second, now)
	}
	assert.Equal(t, 100*ms, adaptive.base(e, now), "clamped to max")
}

// arrivals runs one request through h over a stub whose attempts never
// answer before the caller's deadline, and returns when each attempt
// arrived, relative to the start.
func arrivals(t *testing.T, cfg Config, deadline time.Duration) []time.Duration {
	var mu sync.Mutex
	var at []time.Duration
	start := time.Now()
	stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
		mu.Lock()
		at = append(at, time.Since(start))
		mu.Unlock()
		return after(req, time.Hour, 200, nil)
	}}
	req := newGet(t)
	ctx, cancel := contextWithTimeout(req, deadline)
	defer cancel()
	_, err := New(cfg).Wrap(stub).RoundTrip(req.WithContext(ctx))
	require.Error(t, err)
	synctest.Wait()
	return at
}

// Fixed: hedge k fires at exactly k × Delay.
func TestFixedDelayInstants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		got := arrivals(t, Config{Delay: 10 * ms, MaxHedges: 3}, time.Second)
		assert.Equal(t, []time.Duration{0, 10 * ms, 20 * ms, 30 * ms}, got)
	})
}

// Adaptive, before any latency was seen: hedge k fires at k × WarmupDelay,
// DefaultWarmupDelay when it is zero. A fixed Delay beside it would be a
// contradiction New refuses (see TestConfigPanics).
func TestWarmupDelayInstants(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		cfg  Config
		want []time.Duration
	}{
		{"zero Config", Config{}, []time.Duration{0, DefaultWarmupDelay}},
		{"WarmupDelay", Config{WarmupDelay: 30 * ms, MaxHedges: 2}, []time.Duration{0, 30 * ms, 60 * ms}},
		{"WarmupDelay with Quantile", Config{Quantile: 0.99, WarmupDelay: 40 * ms}, []time.Duration{0, 40 * ms}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				assert.Equal(t, tc.want, arrivals(t, tc.cfg, time.Second))
			})
		})
	}
}

// Schedule: hedge k fires at Delays[k-1]; the SLO and percentile clients
// are one line each.
func TestScheduleInstants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		got := arrivals(t, Config{Delays: SLO(time.Second, 0.95)}, 2*time.Second)
		assert.Equal(t, []time.Duration{0, 950 * ms}, got)
		got = arrivals(t, Config{Delays: SLO(time.Second, 0.5, 0.75, 0.95)}, 2*time.Second)
		assert.Equal(t, []time.Duration{0, 500 * ms, 750 * ms, 950 * ms}, got)
	})
}

// A failure fires the next hedge early; the hedge after it keeps its
// offset from the start.
func TestEarlyHedgeKeepsLaterOffsets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		var mu sync.Mutex
		var at []time.Duration
		start := time.Now()
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
			if n == 1 {
				return after(req, 3*ms, 503, nil)
			}
			return after(req, time.Second, 200, nil)
		}}
		resp, err := New(Config{Delays: []time.Duration{10 * ms, 20 * ms}}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, []time.Duration{0, 3 * ms, 20 * ms}, at)
	})
}

// Delays multiply without wrapping around: k × unit saturates at the
// largest Duration (issue 11, bug 8).
func TestScheduleAtSaturates(t *testing.T) {
	s := schedule{mode: modeFixed, hedges: maxHedgesLimit}
	for _, tc := range []struct {
		k    int
		unit time.Duration
		want time.Duration
	}{
		{1, math.MaxInt64, math.MaxInt64},
		{2, math.MaxInt64, math.MaxInt64},
		{10, math.MaxInt64, math.MaxInt64},
		{2, math.MaxInt64/2 + 1, math.MaxInt64},
		{2, math.MaxInt64 / 2, math.MaxInt64 - 1},
		{10, time.Hour, 10 * time.Hour},
	} {
		assert.Equal(t, tc.want, s.at(tc.k, tc.unit), "at(%d, %v)", tc.k, tc.unit)
	}
}

// "Hedge only on failure" (Delay math.MaxInt64) with MaxHedges 2: a
// failure fires hedge 1 at once, and hedge 2 waits for another failure.
// Round 1 fired it 130 µs later.
func TestHugeDelayHedgesOnlyOnFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return after(req, time.Millisecond, 503, nil)
			}
			return after(req, time.Hour, 200, nil)
		}}
		h := New(Config{Delay: math.MaxInt64, MaxHedges: 2})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 2, stub.Calls())
		assert.Equal(t, uint64(1), h.Stats().Hedges)
	})
}
