package hedge

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// stepTrace feeds an estimator d1 latencies (99% ≈ N(10 ms, 1 ms), 1% at
// 1 s) from requests arriving at rate per second (Poisson, from seed) on a
// simulated clock, every latency × factor from phase to 2 × phase, each
// recorded when it ends, and reads its p95 every 10 ms. It returns the
// readings.
func stepTrace(rate, factor float64, phase time.Duration, seed uint64) []time.Duration {
	r := rand.New(rand.NewPCG(uint64(rate), seed))
	type sample struct{ end, d time.Duration }
	var ss []sample
	for at := time.Duration(0); at < 3*phase; at += time.Duration(r.ExpFloat64() / rate * float64(time.Second)) {
		scale := 1.0
		if at >= phase && at < 2*phase {
			scale = factor
		}
		d := time.Duration(scale * float64(time.Second))
		if r.Float64() >= 0.01 {
			d = time.Duration(scale * max(10+r.NormFloat64(), 1) * float64(time.Millisecond))
		}
		ss = append(ss, sample{at + d, d})
	}
	slices.SortFunc(ss, func(a, b sample) int { return int(a.end - b.end) })
	t0 := time.Unix(0, 0)
	e := newEstimator(t0, nil)
	var readings []time.Duration
	i := 0
	for t := time.Duration(0); t < 3*phase; t += 10 * time.Millisecond {
		for ; i < len(ss) && ss[i].end <= t; i++ {
			e.record(ss[i].d, t0.Add(ss[i].end))
		}
		d, _ := e.quantile(0.95, t0.Add(t))
		readings = append(readings, d)
	}
	return readings
}

// settlesAfter returns how long after from (an index into readings, 10 ms
// apart) the reading was last outside 1.5× of want, looking up to to.
func settlesAfter(readings []time.Duration, from, to int, want time.Duration) time.Duration {
	var last time.Duration
	for j := from; j < to; j++ {
		if d := float64(readings[j]); d > 1.5*float64(want) || d < float64(want)/1.5 {
			last = time.Duration(j-from+1) * 10 * time.Millisecond
		}
	}
	return last
}

// The estimate follows a step ×3 up and back down within 2 s from 100
// requests per second up (issue 13): a generation ends after a span of
// samples or after genPeriod, whichever comes first, so the short memory
// forgets by time as well as by samples, and a generation whose median
// leaves the long memory's quartiles empties it. Below 80 per second a
// generation waits for a quarter span of samples, so the estimate takes
// two quarter spans (160 samples at p95) instead: about 3.2 s at 50 per
// second and 8 s at 20. Each rate runs four seeds; the settled values are
// the p95 buckets of ×3 and ×1 d1, 35.7 ms and 12.1 ms.
//
//	go test -run TestEstimatorFollowsAStepAtEveryRate -v ./hedge   # prints every rate's times
func TestEstimatorFollowsAStepAtEveryRate(t *testing.T) {
	const phase = 20 * time.Second
	up, down := upperBound(bucketOf(35*time.Millisecond)), upperBound(bucketOf(12*time.Millisecond))
	idx := func(d time.Duration) int { return int(d / (10 * time.Millisecond)) }
	for _, tc := range []struct {
		rate  float64
		limit time.Duration // for both steps
	}{
		{20, 10 * time.Second}, // 160 samples: 8 s, and noise
		{50, 4 * time.Second},  // 160 samples: 3.2 s
		{100, 2 * time.Second},
		{200, 2 * time.Second},
		{1000, 2 * time.Second},
	} {
		var times []string
		for seed := range uint64(4) {
			rd := stepTrace(tc.rate, 3, phase, seed)
			u := settlesAfter(rd, idx(phase), idx(2*phase), up)
			d := settlesAfter(rd, idx(2*phase), idx(3*phase), down)
			times = append(times, fmt.Sprintf("%.2f/%.2f", u.Seconds(), d.Seconds()))
			if u > tc.limit || d > tc.limit {
				t.Errorf("%g/s, seed %d: the p95 settled %v after the step up and %v after the step down, want ≤ %v",
					tc.rate, seed, u, d, tc.limit)
			}
		}
		if testing.Verbose() {
			fmt.Printf("%5g/s: settled after the step up/down (s), seeds 0-3: %v\n", tc.rate, times)
		}
	}
}
