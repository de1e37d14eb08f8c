package hedge

import (
	"sync/atomic"
	"time"
)

// The hedge-rate check of adaptive mode. A delay set at the Quantile of
// recent latencies hedges about 1 − Quantile of requests; a step up in
// latency makes every request overrun it until answers at the new
// latency arrive to say so, which takes at least the new latency: at ×30
// a third of a second of requests, all hedged. The overruns themselves are
// the first evidence. A hedge due on an estimated delay is admitted only
// while, in every span of at least half a second within the last second
// that holds its request's start, the requests hedged on their delay stay
// within rateFactor × (1 − Quantile) of the requests started, plus
// rateFloor. Otherwise the delay is too short for the upstream as it is
// now, and the hedge is put off (see race.deferLocked): it is asked for
// again at twice the time elapsed, by when the estimate may have caught
// up, so a stalled request is still rescued once the storm is over.
const (
	// rateFactor is how far the share of requests hedged may exceed
	// 1 − Quantile: twice is what issue 13 calls a storm, and what the
	// estimator's own shift test (shiftFactor) calls a changed upstream.
	rateFactor = 2
	// rateFloor is the hedges every span allows whatever its traffic, so
	// that a host with a few requests a second can still hedge one.
	rateFloor = 1
	// rateSlots and rateWidth split the last second into buckets. The
	// rule holds for every span of at least rateMinSpan of them (half a
	// second), so an allowance earned over the second cannot be spent in
	// its last half; shorter spans hold too few requests at ordinary
	// rates (12 in 125 ms at 100 per second) to tell a storm from a few
	// stalls arriving together.
	rateSlots   = 8
	rateMinSpan = 4
	rateWidth   = time.Second / rateSlots
	// rateMax saturates a bucket's counts (16 bits each).
	rateMax = 1<<16 - 1
)

// hedgeRate counts, per bucket of rateWidth, the requests started to a
// host and the delay hedges admitted for them. Each bucket is one word — its index
// in the upper 32 bits, then 16 bits each of starts and hedges — updated
// by compare-and-swap, so it is lock-free and exact; only admit's
// check-then-count may let a few concurrent hedges past the limit
// together. Bucket indexes count rateWidth since the estimator's birth.
type hedgeRate struct {
	buckets [rateSlots]atomic.Uint64
}

// started counts a request started at bucket idx.
func (r *hedgeRate) started(idx int64) { r.add(idx, 1<<16) }

// admit reports whether a delay hedge at bucket now, of a request started
// at bucket start, keeps every span of buckets in the last second that
// holds start within limit × the requests started in the span +
// rateFloor, and counts it if so. A hedge counts in its request's bucket,
// not its own: a delay lags the start, by more than a bucket after a step
// up, and the share that matters is of the requests started (a request
// older than the ring counts in its oldest bucket).
func (r *hedgeRate) admit(start, now int64, limit float64) bool {
	if !r.within(start, now, limit) {
		return false
	}
	r.count(start, now)
	return true
}

// count counts a delay hedge at bucket now of a request started at bucket
// start, in the request's bucket (its oldest for a request older than the
// ring), whether or not the limit allowed it.
func (r *hedgeRate) count(start, now int64) {
	r.add(min(max(start, now-(rateSlots-1), 0), now), 1)
}

// calm reports whether the host's own delay hedges leave room for one
// more at bucket now (admit's rule for a request started now), counting
// nothing: a host at its limit is one whose requests overrun their delay
// in a storm, as in a step up.
func (r *hedgeRate) calm(now int64, limit float64) bool { return r.within(now, now, limit) }

// within reports whether one more delay hedge at bucket now, of a request
// started at bucket start, keeps the host within its limit (see admit).
func (r *hedgeRate) within(start, now int64, limit float64) bool {
	lo := max(now-(rateSlots-1), 0)
	start = min(max(start, lo), now)
	var starts, hedges [rateSlots]uint64 // bucket lo+k at k
	for i := lo; i <= now; i++ {
		if w := r.buckets[i%rateSlots].Load(); w>>32 == uint64(uint32(i)) {
			starts[i-lo], hedges[i-lo] = w>>16&rateMax, w&rateMax
		}
	}
	for i := start - lo; i >= 0; i-- {
		var s, h uint64
		for k := i; k < start-lo; k++ {
			s, h = s+starts[k], h+hedges[k]
		}
		for k := start - lo; k <= now-lo; k++ {
			s, h = s+starts[k], h+hedges[k]
			if k-i+1 >= min(rateMinSpan, now-lo+1) && float64(h+1) > limit*float64(s)+rateFloor {
				return false
			}
		}
	}
	return true
}

// add adds delta to bucket idx's word, restarting the bucket if it held
// an older index, and saturating each count. A bucket holding a newer
// index (a clock stepped back) is left alone.
func (r *hedgeRate) add(idx int64, delta uint64) {
	b := &r.buckets[idx%rateSlots]
	tag := uint64(uint32(idx))
	for {
		old := b.Load()
		w := old
		switch {
		case w>>32 > tag:
			return
		case w>>32 < tag:
			w = tag << 32
		}
		starts := min(w>>16&rateMax+delta>>16, rateMax)
		hedges := min(w&rateMax+delta&rateMax, rateMax)
		if b.CompareAndSwap(old, tag<<32|starts<<16|hedges) {
			return
		}
	}
}

// rateIndex returns the hedgeRate bucket of an offset from the
// estimator's birth; a clock before the birth counts as bucket 0.
func rateIndex(offset time.Duration) int64 {
	return int64(max(offset, 0) / rateWidth)
}
