package lab

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the q-quantile (0 < q ≤ 1) of sorted by the
// nearest-rank method: the smallest value with at least q of the samples at
// or below it. It is 0 for an empty slice.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Summary is the latency profile of one run.
type Summary struct {
	N                        int
	P50, P90, P99, P999, Max time.Duration
}

// Summarize sorts latencies in place and summarizes them.
func Summarize(latencies []time.Duration) Summary {
	slices.Sort(latencies)
	return Summary{
		N:    len(latencies),
		P50:  Percentile(latencies, 0.50),
		P90:  Percentile(latencies, 0.90),
		P99:  Percentile(latencies, 0.99),
		P999: Percentile(latencies, 0.999),
		Max:  Percentile(latencies, 1),
	}
}
