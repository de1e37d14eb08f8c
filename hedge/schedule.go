package hedge

import (
	"fmt"
	"math"
	"time"

	"github.com/tailguard/tailguard/internal/saturate"
)

// schedule says when each hedge of a request fires. It holds no state per
// request and is shared, read-only, by every request of a stage.
type schedule struct {
	mode   mode
	hedges int // hedges per request, 1..maxHedgesLimit

	delays []time.Duration // modeSchedule: offset of hedge k at delays[k-1]

	// step is the fixed interval (modeFixed, Config.Delay) or the warm-up
	// delay (modeAdaptive, Config.WarmupDelay).
	step time.Duration

	quantile float64       // modeAdaptive: which latency quantile to wait for
	min, max time.Duration // modeAdaptive: clamp of the estimated delay
}

// base returns the delay unit for one request: the fixed step, or in
// adaptive mode the estimate clamped to [min, max] (the warm-up step when
// the estimator has too few samples). est is nil outside adaptive mode.
func (s *schedule) base(est *estimator, now time.Time) time.Duration {
	d, _ := s.adaptiveBase(est, now)
	return d
}

// adaptiveBase is base, and reports whether the unit is the estimator's
// own: an estimate the host's hedge rate may overrule (see rateFactor).
// A warm-up delay, a guess, or an estimate cut down to MaxDelay is not:
// the user chose it, or nothing better is known.
func (s *schedule) adaptiveBase(est *estimator, now time.Time) (time.Duration, bool) {
	if s.mode != modeAdaptive || est == nil {
		return s.step, false
	}
	d, ok := est.quantile(s.quantile, now)
	switch {
	case ok:
		return min(max(d, s.min), s.max), d <= s.max
	case d > 0:
		// Too few samples for a quantile: the estimator's cautious
		// guess, never later than the warm-up delay.
		return min(max(d, s.min), s.step), false
	}
	return s.step, false
}

// at returns the offset from the start of the request at which hedge k
// (1-based) fires, given the request's base delay. Later hedges of a fixed
// or adaptive schedule are spaced by the same unit: if the first hedge was
// also slow, the next is sent after as long again. The product saturates:
// Delay math.MaxInt64 ("hedge only on failure") with MaxHedges 2 used to
// wrap around and fire the second hedge 130 µs after the first (issue 11,
// bug 8).
func (s *schedule) at(k int, base time.Duration) time.Duration {
	if s.mode == modeSchedule {
		return s.delays[k-1]
	}
	return saturate.Mul(int64(k), base)
}

// SLO returns a schedule for [Config.Delays] that fires one hedge at each
// fraction of target: SLO(time.Second, 0.95) hedges once at 950 ms, and
// SLO(time.Second, 0.5, 0.75, 0.95) hedges at 500, 750 and 950 ms.
//
// Hedging before the SLO is breached gives the backup request the rest of
// the budget to answer in. SLO panics, naming the argument, if target is not
// positive, if no fraction or more than 10 are given, or unless the
// fractions are strictly increasing and each in (0, 1].
func SLO(target time.Duration, fractions ...float64) []time.Duration {
	if target <= 0 {
		panic(fmt.Sprintf("hedge: SLO target must be positive, got %v", target))
	}
	if len(fractions) == 0 || len(fractions) > maxHedgesLimit {
		panic(fmt.Sprintf("hedge: SLO fractions must hold 1 to %d values, got %d", maxHedgesLimit, len(fractions)))
	}
	ds := make([]time.Duration, len(fractions))
	for i, f := range fractions {
		if !(f > 0 && f <= 1) { // also rejects NaN
			panic(fmt.Sprintf("hedge: SLO fractions[%d] must be in (0, 1], got %v", i, f))
		}
		if i > 0 && f <= fractions[i-1] {
			panic(fmt.Sprintf("hedge: SLO fractions must be strictly increasing, got %v after %v", f, fractions[i-1]))
		}
		// f ≤ 1, so the product is at most target; clamp it there, since
		// float64 rounding near 2^63 ns could otherwise overflow.
		ds[i] = target
		if p := math.Round(f * float64(target)); p < float64(target) {
			ds[i] = time.Duration(p)
		}
	}
	checkDelays("SLO result", ds) // a tiny target can round two fractions to one duration
	return ds
}
