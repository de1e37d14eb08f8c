package hedge

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// Every latency in range falls in a bucket whose upper edge is above it and
// at most 1/16 larger; buckets are ordered.
func TestBuckets(t *testing.T) {
	prev := -1
	for d := 40 * time.Microsecond; d < 60*time.Second; d = d*101/100 + 1 {
		i := bucketOf(d)
		require.GreaterOrEqual(t, i, prev, "monotonic at %v", d)
		prev = i
		ub := upperBound(i)
		require.Greater(t, ub, d, "%v", d)
		require.LessOrEqual(t, float64(ub), float64(d)*(1+1.0/16)+1, "%v in bucket %d", d, i)
	}
	assert.Equal(t, 0, bucketOf(0))
	assert.Equal(t, 0, bucketOf(-time.Second))
	assert.Equal(t, numBuckets-1, bucketOf(time.Hour))
}

func TestEstimatorQuantile(t *testing.T) {
	now := time.Now()
	e := newEstimator(now, nil)
	for i := range 200 { // less than a decay span: every sample weighs the same
		e.record(time.Duration(i%100+1)*time.Millisecond, now) // 1..100 ms, uniform
	}
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		d, ok := e.quantile(q, now)
		require.True(t, ok)
		want := time.Duration(q*100) * time.Millisecond
		assert.GreaterOrEqual(t, d, want, "q=%v", q)
		assert.LessOrEqual(t, float64(d), float64(want)*1.07, "q=%v", q)
	}
}

func TestEstimatorMinSamples(t *testing.T) {
	now := time.Now()
	e := newEstimator(now, nil)
	for range MinSamples - 1 {
		e.record(time.Millisecond, now)
	}
	_, ok := e.quantile(0.5, now)
	assert.False(t, ok)
	e.record(time.Millisecond, now)
	_, ok = e.quantile(0.5, now)
	assert.True(t, ok, "the cache does not prolong the warm-up")
}

func TestDecaySpan(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		want uint32
	}{
		{0.95, 320}, {0.99, 1600}, {0.9, 160}, {0.5, minDecaySpan}, {0.9999, maxDecaySpan},
	} {
		assert.Equal(t, tc.want, decaySpan(tc.q), "q=%v", tc.q)
	}
	assert.Equal(t, uint64(decaySpan(DefaultQuantile)), uint64(defaultSpan))
}

// The p95 follows a step in the samples, up and down, within a few decay
// spans: step tables of the estimator's memory. Samples cycle through
// 1..100 × unit, so the p95 is 95 × unit.
func TestEstimatorFollowsSteps(t *testing.T) {
	type step struct {
		samples int           // recorded
		unit    time.Duration // their scale
		lo, hi  time.Duration // want the estimate in [lo, hi]
	}
	const us = time.Microsecond
	tests := []struct {
		name  string
		steps []step
	}{
		{"step up ×3: most of the way within a third of a span", []step{
			{4000, 100 * us, 9500 * us, 10000 * us},
			{100, 300 * us, 19 * time.Millisecond, 29400 * us},
			{2560, 300 * us, 28300 * us, 29400 * us},
		}},
		{"step down ÷3: late rather than early, then there within five spans", []step{
			{4000, 300 * us, 28500 * us, 29400 * us},
			{320, 100 * us, 26 * time.Millisecond, 29400 * us}, // old samples still hold half the short memory
			{1280, 100 * us, 9500 * us, 10500 * us},
			{2560, 100 * us, 9500 * us, 10000 * us},
		}},
		{"no change: no drift", []step{
			{2000, 100 * us, 9500 * us, 10000 * us},
			{20000, 100 * us, 9500 * us, 10000 * us},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			e := newEstimator(now, nil)
			e.quantile(0.95, now) // sizes the span for p95
			n := 0
			for i, s := range tt.steps {
				for range s.samples {
					e.record(time.Duration(n%100+1)*s.unit, now)
					n++
				}
				d, ok := e.quantile(0.95, now)
				require.True(t, ok)
				assert.GreaterOrEqual(t, d, s.lo, "step %d", i)
				assert.LessOrEqual(t, d, s.hi, "step %d", i)
			}
		})
	}
}

// A quiet host's samples fade with time: the long memory halves every
// longSpans × decayPeriod, and once it weighs less than MinSamples the host
// borrows the fleet's estimate again.
func TestEstimatorFadesWithTime(t *testing.T) {
	const period = longPeriod
	t0 := time.Now()
	fleet := newEstimator(t0, nil)
	e := newEstimator(t0, fleet)
	for range 4 * MinSamples {
		e.record(50*time.Millisecond, t0) // and into the fleet
	}
	want := upperBound(bucketOf(50 * time.Millisecond))
	for i, at := range []time.Duration{0, period - 1, period, 2 * period} {
		d, ok := e.quantile(0.95, t0.Add(at))
		require.True(t, ok, "%d: 80 samples halved %d times", i, at/period)
		assert.Equal(t, want, d)
	}
	// Halved three times: 10 samples' weight is too little for a
	// quantile, and the host borrows the fleet's estimate, where other
	// hosts' samples now dominate, or its own guess (twice its slowest)
	// if that is later.
	for range 3000 {
		fleet.record(10*time.Millisecond, t0.Add(3*period))
	}
	d, ok := e.quantile(0.95, t0.Add(3*period))
	require.True(t, ok)
	assert.Equal(t, 2*want, d, "the host's own guess, later than the fleet's 10 ms")
	_, ok = e.own(0.95, t0.Add(3*period))
	assert.False(t, ok)

	d, ok = e.own(0.95, t0.Add(time.Hour))
	assert.False(t, ok, "an hour idle leaves nothing of the host's own")
	assert.Zero(t, d, "not even a guess")
	d, ok = e.quantile(0.95, t0.Add(2*time.Hour))
	assert.False(t, ok, "nor of the fleet's: back to the warm-up delay")
	assert.Zero(t, d)
}

// A clock that steps back neither halves nor loses the counts.
func TestEstimatorClockStepsBack(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e := newEstimator(t0, nil)
	for range 100 {
		e.record(10*time.Millisecond, t0.Add(-time.Hour))
	}
	d, ok := e.quantile(0.5, t0.Add(-time.Hour))
	require.True(t, ok)
	assert.Equal(t, upperBound(bucketOf(10*time.Millisecond)), d)
	assert.Zero(t, e.long.halvedAt.Load(), "the long memory did not halve")
	assert.Zero(t, e.long.halvedSeq.Load())
}

// A cold host borrows the fleet's estimate; its own takes over at
// MinSamples.
func TestEstimatorBorrowsFleet(t *testing.T) {
	now := time.Now()
	var h hosts
	hot := h.get("hot", now)
	for range 200 {
		hot.record(10*time.Millisecond, now)
	}
	cold := h.get("cold", now)
	d, ok := cold.quantile(0.95, now)
	require.True(t, ok)
	assert.Equal(t, upperBound(bucketOf(10*time.Millisecond)), d, "the fleet's p95")
	for range MinSamples {
		cold.record(40*time.Millisecond, now)
	}
	d, _ = cold.quantile(0.95, now)
	assert.Equal(t, upperBound(bucketOf(40*time.Millisecond)), d, "its own, once it weighs MinSamples")
}

// The cache is reused until recomputeEvery new samples arrive.
func TestEstimatorCache(t *testing.T) {
	now := time.Now()
	e := newEstimator(now, nil)
	for range 100 {
		e.record(time.Millisecond, now)
	}
	d1, _ := e.quantile(0.5, now)
	for range recomputeEvery - 1 {
		e.record(time.Hour, now)
	}
	d2, _ := e.quantile(0.5, now)
	assert.Equal(t, d1, d2)
	d3, _ := e.quantile(0.99, now)
	assert.NotEqual(t, d1, d3, "another quantile is recomputed")
}

func TestEstimatorConcurrent(t *testing.T) {
	now := time.Now()
	fleet := newEstimator(now, nil)
	e := newEstimator(now, fleet)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				at := now.Add(time.Duration(i) * time.Millisecond * time.Duration(g+1))
				e.record(time.Duration(i%50+1)*time.Millisecond, at)
				e.quantile(0.95, at)
			}
		})
	}
	wg.Wait()
	d, ok := e.quantile(0.95, now.Add(8*time.Second))
	assert.True(t, ok)
	assert.InDelta(t, 48*time.Millisecond, d, float64(4*time.Millisecond))
}

// adaptiveRun sends n sequential requests to one host; the original
// attempt of request i takes latency(i), hedges take 1 ms. It returns each
// hedge's firing time, by request index.
func adaptiveRun(t *testing.T, cfg Config, n int, latency func(i int) time.Duration) map[int]time.Duration {
	fired := map[int]time.Duration{}
	var mu sync.Mutex
	var i int
	cfg.OnHedge = func(info HedgeInfo) {
		mu.Lock()
		fired[i] = info.Elapsed
		mu.Unlock()
	}
	stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		if IsHedge(req.Context()) {
			return after(req, time.Millisecond, 200, nil)
		}
		return after(req, latency(i), 200, nil)
	}}
	rt := New(cfg).Wrap(stub)
	for i = range n {
		resp, err := rt.RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	return fired
}

// A permutation of 1..100 ms: p95 is 95 ms.
func permuted(i int) time.Duration { return time.Duration((i*37)%100+1) * time.Millisecond }

// After warm-up the hedge delay tracks the p95 of the original's latency.
func TestAdaptiveTracksQuantile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The warm-up delay is above every latency: nothing is hedged
		// until the estimate takes over.
		fired := adaptiveRun(t, Config{Quantile: 0.95, WarmupDelay: 200 * time.Millisecond}, 400, permuted)
		late := 0
		for i, at := range fired {
			if i < MinSamples {
				// Warm-up: from 5 samples on, at twice the slowest
				// latency recorded so far (rounded up by a bucket), at
				// most four times the median from 10 on, and only when
				// that is sooner than the warm-up delay.
				var seen []time.Duration
				for j := range i {
					d := permuted(j)
					if h, ok := fired[j]; ok {
						d = h + time.Millisecond // canceled when its 1 ms hedge won
					}
					seen = append(seen, d)
				}
				require.GreaterOrEqual(t, len(seen), MinSamples/4, "request %d: no guess from fewer samples", i)
				slices.Sort(seen)
				guess := 2 * upperBound(bucketOf(seen[len(seen)-1]))
				if len(seen) >= MinSamples/2 {
					guess = min(guess, 4*upperBound(bucketOf(seen[(len(seen)+1)/2-1])))
				}
				assert.Equal(t, guess, at, "request %d", i)
				assert.Greater(t, permuted(i), at)
				continue
			}
			assert.GreaterOrEqual(t, at, 90*time.Millisecond, "request %d", i)
			assert.LessOrEqual(t, at, 101*time.Millisecond, "request %d", i)
			late++
		}
		// 400 − 20 requests, 5% above p95, rounded up by a bucket.
		assert.InDelta(t, 19, late, 6)
	})
}

func TestAdaptiveClamp(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{MaxDelay: 50 * time.Millisecond}, 50 * time.Millisecond},
		{Config{MinDelay: 200 * time.Millisecond}, 200 * time.Millisecond},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tc.cfg.WarmupDelay = 150 * time.Millisecond
				fired := adaptiveRun(t, tc.cfg, 200, func(i int) time.Duration {
					if i >= MinSamples && i%50 == 0 { // 2% slow: p95 stays near 97 ms
						return time.Second
					}
					return permuted(i)
				})
				for i, at := range fired {
					if i >= MinSamples {
						assert.Equal(t, tc.want, at, "request %d", i)
					}
				}
			})
		})
	}
}

// Adaptive hedge k fires at k × the estimated delay.
func TestAdaptiveLaterHedges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex // hooks of one request may run on different goroutines
		var at []time.Duration
		i := 0
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			if i < MinSamples {
				return after(req, 10*time.Millisecond, 200, nil)
			}
			return after(req, time.Second, 200, nil)
		}}
		rt := New(Config{MaxHedges: 2, OnHedge: func(info HedgeInfo) {
			mu.Lock()
			defer mu.Unlock()
			if i == MinSamples {
				at = append(at, info.Elapsed)
			}
		}}).Wrap(stub)
		for i = range MinSamples + 1 {
			resp, err := rt.RoundTrip(newGet(t))
			require.NoError(t, err)
			readAll(t, resp)
			synctest.Wait()
		}
		d := upperBound(bucketOf(10 * time.Millisecond))
		assert.Equal(t, []time.Duration{d, 2 * d}, at)
	})
}

// TestEstimatorAllocs pins the estimator's zero-allocation claim, which
// BenchmarkEstimatorRecordQuantile only reports: reading the delay and
// recording a latency allocate nothing, on every path they take. Each run
// is a host's whole life on a clock that only moves forward: a reset to a
// new host (its warm-up guess, then the fleet's quantile borrowed), then
// three phases of enough samples for several generations and a halving of
// the long memory each: a steady distribution, the same with a heavier
// tail (the generations disagree with the long memory, which forgets
// faster, and the short memory's quantile is used), and its body ten times
// slower (the long memory is emptied). Every path then runs in every run,
// so an allocation on any of them counts at least once per run:
// AllocsPerRun divides by the runs and would round down one that only some
// runs make.
func TestEstimatorAllocs(t *testing.T) {
	if testkit.RaceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	now := time.Now()
	e := newEstimator(now, newEstimator(now, nil))
	const phase = longSpans * defaultSpan // samples per phase: a long-memory halving by count
	latency := func(i int) time.Duration {
		d := time.Duration(i*7919%100+1) * 100 * time.Microsecond // 0.1–10 ms, uniform
		switch {
		case i >= 2*phase:
			return 10 * d
		case i >= phase && i%8 == 0:
			return 10 * d // an eighth above the old p95, where a twentieth was
		}
		return d
	}
	run := func() {
		e.reset(now)
		for i := range 3 * phase {
			e.quantile(DefaultQuantile, now)
			e.record(latency(i), now)
			now = now.Add(time.Millisecond)
		}
		now = now.Add(longPeriod) // and a halving by time at the next run's first sample
	}
	assert.Zero(t, testing.AllocsPerRun(20, run))
}

// BenchmarkEstimatorRecordQuantile is the adaptive hot path per request:
// read the delay, record the latency (into the host's estimator and the
// fleet's), from many goroutines at once: 0 allocations.
func BenchmarkEstimatorRecordQuantile(b *testing.B) {
	now := time.Now()
	e := newEstimator(now, newEstimator(now, nil))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := time.Millisecond
		for pb.Next() {
			e.quantile(0.95, now)
			e.record(d, now)
			d = d*17%(50*time.Millisecond) + time.Millisecond
		}
	})
}
