package hedge

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// A histogram is log-linear: 16 linear sub-buckets per power of two, so a
// bucket is at most 1/16 (6.25%) wide, from 2^15 ns (33 µs) to 2^36 ns
// (69 s). Shorter latencies count in the first bucket and longer ones in
// the last, which only matters if the hedge delay is clamped there anyway.
const (
	subBits    = 4
	subBuckets = 1 << subBits
	minExp     = 15
	maxExp     = 35
	numBuckets = (maxExp - minExp + 1) * subBuckets

	// weightShift sets the fixed point of the counts: one sample adds
	// 1 << weightShift, so halving keeps fractions of a sample down to
	// 1/4096. A count stays far below 2^32: at most 2 × maxDecaySpan ×
	// longSpans samples' worth accumulate between halvings.
	weightShift = 12
)

// bucketOf returns the histogram bucket of a latency.
func bucketOf(d time.Duration) int {
	ns := uint64(max(d, 0))
	exp := bits.Len64(ns) - 1
	switch {
	case exp < minExp:
		return 0
	case exp > maxExp:
		return numBuckets - 1
	}
	sub := int(ns>>(exp-subBits)) & (subBuckets - 1)
	return (exp-minExp)*subBuckets + sub
}

// upperBound returns the exclusive upper edge of bucket i. Reporting the
// upper edge rounds the quantile up, so the hedge rate stays at or below
// 1 − quantile rather than above it.
func upperBound(i int) time.Duration {
	exp := minExp + i/subBuckets
	sub := i % subBuckets
	return time.Duration(uint64(subBuckets+sub+1) << (exp - subBits))
}

// histogram is a decaying latency histogram with fixed-point counts: each
// sample adds one unit to its bucket, and halve divides every count (or
// empties the histogram). Adds are atomic and never block; halve must not
// run concurrently with itself (its caller serializes it), but may with
// adds, which it never loses unless it empties. It is about 1.4 KB.
type histogram struct {
	counts [numBuckets]atomic.Uint32
	added  atomic.Uint64 // samples ever added

	// Written by the goroutine that halves, read by any.
	halvedAdded atomic.Uint64 // added as of the last halving
	halvedAt    atomic.Int64  // when, as an offset from the estimator's birth, ns
	halvedTotal atomic.Uint64 // the weight left by the last halving, in units
}

func (h *histogram) add(bucket int) {
	h.counts[bucket].Add(1 << weightShift)
	h.added.Add(1)
}

// since returns how many samples were added since the last halving.
func (h *histogram) since() uint64 { return h.added.Load() - h.halvedAdded.Load() }

// halve shifts every count right by shift (at least 1; from 32 on it
// empties the histogram), at the offset at from the estimator's birth.
func (h *histogram) halve(shift int64, at int64) {
	added := h.added.Load()
	shift = min(shift, 32)
	var total uint64
	for i := range h.counts {
		c := &h.counts[i]
		for v := c.Load(); v != 0; v = c.Load() {
			if c.CompareAndSwap(v, uint32(uint64(v)>>shift)) {
				total += uint64(v) >> shift
				break
			}
		}
	}
	h.halvedTotal.Store(total)
	h.halvedAdded.Store(added)
	h.halvedAt.Store(at)
}

// total returns the weight of every sample, in units: what the last
// halving left, plus a unit per sample since. Samples added while a
// halving ran may count whole or halved; a few units either way do not
// move a quantile.
func (h *histogram) total() uint64 {
	return h.halvedTotal.Load() + h.since()<<weightShift
}

// guess returns a cautious hedge delay from too few samples for a
// quantile: none below MinSamples / 4 samples, then twice the largest,
// and, once there are MinSamples / 2 for a median to mean something, at
// most four times the median. It reports false without a guess, or if no
// bucket holds a whole sample's weight: samples halved that often are too
// old to guess from.
func (h *histogram) guess() (time.Duration, bool) {
	var total uint64
	top := -1
	for i := range h.counts {
		c := uint64(h.counts[i].Load())
		total += c
		if c >= 1<<weightShift {
			top = i
		}
	}
	if top < 0 {
		return 0, false
	}
	if total < MinSamples/4<<weightShift {
		return 0, false
	}
	if total < MinSamples/2<<weightShift {
		return 2 * upperBound(top), true
	}
	var seen uint64
	for i := range h.counts {
		if seen += uint64(h.counts[i].Load()); 2*seen >= total {
			return min(2*upperBound(top), 4*upperBound(i)), true
		}
	}
	return 2 * upperBound(top), true // the counts raced with a halving
}

// view reads one histogram, or two as if they were one (the short
// memory's two generations). The second may be nil.
type view [2]*histogram

func (v view) count(i int) uint64 {
	c := uint64(v[0].counts[i].Load())
	if v[1] != nil {
		c += uint64(v[1].counts[i].Load())
	}
	return c
}

func (v view) total() uint64 {
	t := v[0].total()
	if v[1] != nil {
		t += v[1].total()
	}
	return t
}

// quantileBucket returns the bucket holding the q-quantile of the
// weighted samples, and false if they weigh less than minWeight samples.
func (v view) quantileBucket(q float64, minWeight uint64) (int, bool) {
	total := v.total()
	if total < minWeight<<weightShift {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	last := -1
	for i := range numBuckets {
		c := v.count(i)
		if c == 0 {
			continue
		}
		seen += c
		last = i
		if seen >= rank {
			return i, true
		}
	}
	return last, last >= 0 // last < 0: the counts raced with a halving
}

// tail returns the fractions of the weight above bucket b and at or above
// it, and false if the samples weigh less than minWeight samples.
func (v view) tail(b int, minWeight uint64) (above, atOrAbove float64, ok bool) {
	total := v.total()
	if total < minWeight<<weightShift || total == 0 {
		return 0, 0, false
	}
	var below uint64 // scanning up to b is shorter than scanning the tail
	for i := range b {
		below += v.count(i)
	}
	at := v.count(b)
	below = min(below, total) // counts and total are read at slightly different times
	at = min(at, total-below)
	return float64(total-below-at) / float64(total), float64(total-below) / float64(total), true
}
