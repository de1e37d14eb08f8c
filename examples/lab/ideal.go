package lab

import "time"

// Ideal is the best one hedge at delay Delay can do against a distribution:
// each request finishes at min(L1, Delay + L2) with L1 and L2 drawn
// independently, no overhead, no queueing.
type Ideal struct {
	Delay time.Duration
	Summary
	// Extra is the fraction of requests that sent a hedge (L1 > Delay).
	Extra float64
	// Sorted holds every simulated latency, ascending, for plotting.
	Sorted []time.Duration
}

// SimulateIdeal computes [Ideal] for d and delay from n seeded requests.
// n of 10⁶ takes well under a second and puts p99.9 within about 1%.
func SimulateIdeal(d Dist, delay time.Duration, n int, seed uint64) Ideal {
	r := NewRand(seed)
	lat := make([]time.Duration, n)
	hedged := 0
	for i := range lat {
		l := d.Sample(r)
		if l > delay {
			hedged++
			l = min(l, delay+d.Sample(r))
		}
		lat[i] = l
	}
	return Ideal{Delay: delay, Summary: Summarize(lat), Extra: float64(hedged) / float64(n), Sorted: lat}
}
