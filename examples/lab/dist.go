package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Dist is a per-attempt latency distribution.
type Dist struct {
	// Name is the short name used on the command line: d1, d2, d3.
	Name string
	// About says what the distribution is, in one line.
	About string

	sample func(r *rand.Rand) time.Duration
}

// Sample draws one latency using r.
func (d Dist) Sample(r *rand.Rand) time.Duration { return d.sample(r) }

// String returns the name and description.
func (d Dist) String() string { return d.Name + " (" + d.About + ")" }

// The lab's distributions. D1 is the "Tail at Scale" shape: almost every
// request is fast and one in a hundred hits a stall (GC pause, a lost packet
// and its retransmit timer, a cold cache). D2 is a smooth lognormal body;
// D3 a heavy Pareto tail, where hedging helps most and its ideal is hardest
// to approach.
var (
	D1 = Dist{Name: "d1", About: "99% ≈ N(10 ms, 1 ms), 1% at 1 s", sample: sampleD1}
	D2 = Dist{Name: "d2", About: "lognormal, median 10 ms, σ 0.8", sample: sampleD2}
	D3 = Dist{Name: "d3", About: "Pareto, x_m 5 ms, α 1.5, capped at 5 s", sample: sampleD3}
)

// Steady is a healthy replica's latency: D1 without its stalls, so that
// a lab can add stalls of its own (see [Stall]). It is not in [Dists].
var Steady = Dist{Name: "steady", About: "N(10 ms, 1 ms)", sample: sampleSteady}

// Dists lists the distributions in order.
var Dists = []Dist{D1, D2, D3}

// LookupDist returns the distribution named name.
func LookupDist(name string) (Dist, error) {
	for _, d := range Dists {
		if d.Name == name {
			return d, nil
		}
	}
	names := make([]string, len(Dists))
	for i, d := range Dists {
		names[i] = d.Name
	}
	return Dist{}, fmt.Errorf("lab: unknown distribution %q (want one of %s)", name, strings.Join(names, ", "))
}

// NewRand returns a deterministic random source for seed.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func sampleD1(r *rand.Rand) time.Duration {
	if r.Float64() < 0.01 {
		return time.Second
	}
	// Clamp at 1 ms: a 9σ draw must not produce a negative sleep.
	ms := max(10+r.NormFloat64(), 1)
	return msDur(ms)
}

func sampleSteady(r *rand.Rand) time.Duration { return msDur(max(10+r.NormFloat64(), 1)) }

func sampleD2(r *rand.Rand) time.Duration {
	return msDur(10 * math.Exp(0.8*r.NormFloat64()))
}

func sampleD3(r *rand.Rand) time.Duration {
	// Inverse CDF: x_m / U^(1/α) with U in (0, 1].
	u := 1 - r.Float64()
	return min(msDur(5/math.Pow(u, 1/1.5)), 5*time.Second)
}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Quantile estimates the q-quantile of d from n seeded draws.
func (d Dist) Quantile(q float64, n int, seed uint64) time.Duration {
	r := NewRand(seed)
	xs := make([]time.Duration, n)
	for i := range xs {
		xs[i] = d.Sample(r)
	}
	slices.Sort(xs)
	return Percentile(xs, q)
}
