package hedge

import (
	"fmt"
	"net/http"
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
	e := newEstimator(now)
	for i := range 1000 {
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
	e := newEstimator(now)
	for range MinSamples - 1 {
		e.record(time.Millisecond, now)
	}
	_, ok := e.quantile(0.5, now)
	assert.False(t, ok)
	e.record(time.Millisecond, now)
	_, ok = e.quantile(0.5, now)
	assert.True(t, ok, "the cache does not prolong the warm-up")
}

// Old samples age out: after two periods without them, only new ones count.
func TestEstimatorAging(t *testing.T) {
	t0 := time.Unix(0, 0).Add(estimatorPeriod) // at the start of a period
	e := newEstimator(t0)
	for range 100 {
		e.record(500*time.Millisecond, t0)
	}
	t1 := t0.Add(estimatorPeriod)
	for range 100 {
		e.record(10*time.Millisecond, t1)
	}
	d, _ := e.quantile(0.9, t1)
	assert.Greater(t, d, 400*time.Millisecond, "both generations count")

	t2 := t1.Add(estimatorPeriod)
	for range MinSamples {
		e.record(10*time.Millisecond, t2)
	}
	d, _ = e.quantile(0.9, t2)
	assert.Less(t, d, 11*time.Millisecond, "the oldest generation is gone")

	_, ok := e.quantile(0.9, t2.Add(3*estimatorPeriod))
	assert.False(t, ok, "a long pause empties the window")
}

// The cache is reused until recomputeEvery new samples arrive.
func TestEstimatorCache(t *testing.T) {
	now := time.Now()
	e := newEstimator(now)
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
	e := newEstimator(now)
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
	_, ok := e.quantile(0.95, now.Add(8*time.Second))
	assert.True(t, ok)
}

func TestHostsBounded(t *testing.T) {
	var h hosts
	now := time.Now()
	a := h.get("a", now)
	assert.Same(t, a, h.get("a", now))
	for i := range 2 * maxHosts {
		h.get(fmt.Sprint(i), now)
	}
	assert.Len(t, h.m, maxHosts)
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
		fired := adaptiveRun(t, Config{Quantile: 0.95, Delay: 200 * time.Millisecond}, 400, permuted)
		late := 0
		for i, at := range fired {
			require.GreaterOrEqual(t, i, MinSamples)
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
				tc.cfg.Delay = 150 * time.Millisecond
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
