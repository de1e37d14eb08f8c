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

// usedWords is how many 64-bit words the used-bucket bitmap takes.
const usedWords = (numBuckets + 63) / 64

// histogram is a decaying latency histogram with fixed-point counts: each
// sample adds one unit to its bucket, and halve divides every count (or
// empties the histogram). Adds are atomic and never block; halve must not
// run concurrently with itself (its caller serializes it), but may with
// adds, which it never loses unless it empties. It is about 1.4 KB.
//
// A bitmap marks the buckets that may hold a count, so that scans, halving
// and emptying visit only those: a latency distribution fills a few dozen
// of the 336 buckets, and a host seen once, one.
type histogram struct {
	counts [numBuckets]atomic.Uint32
	used   [usedWords]atomic.Uint64 // bit i is set if counts[i] may be non-zero

	// Written by the goroutine that halves, read by any.
	halvedSeq   atomic.Uint64 // the estimator's sample count at the last halving
	halvedAt    atomic.Int64  // when, as an offset from the estimator's birth, ns
	halvedTotal atomic.Uint64 // the weight left by the last halving, in units; all of it once frozen
	frozen      atomic.Bool   // collects no more samples (a generation that ended)
}

func (h *histogram) add(bucket int) {
	h.counts[bucket].Add(1 << weightShift)
	// After the count: an emptying that clears the bit first then finds
	// the count (see halve), or the bit is set again here.
	if w, bit := &h.used[bucket/64], uint64(1)<<(bucket%64); w.Load()&bit == 0 {
		w.Or(bit)
	}
}

// since returns how many samples the estimator recorded since h's last
// halving, given its sample count seq: all of them went to h unless it is
// frozen.
func (h *histogram) since(seq uint64) uint64 {
	if last := h.halvedSeq.Load(); seq > last {
		return seq - last
	}
	return 0
}

// freeze makes h's weight what it is at the estimator's sample count seq:
// a generation that ended collects no more samples (the odd one that
// raced with the end still counts in its bucket, not in the weight).
func (h *histogram) freeze(seq uint64) {
	h.halvedTotal.Store(h.total(seq))
	h.frozen.Store(true)
}

// halve shifts every count right by shift (at least 1; from 32 on it
// empties the histogram and makes it collect again), as of the
// estimator's sample count seq, at the offset at from its birth.
func (h *histogram) halve(shift int64, seq uint64, at int64) {
	var total uint64
	if shift >= 32 {
		// Clear each word's bits, then the counts they marked: an add
		// racing with this either lands before its count is zeroed (and
		// is lost, as it would be a moment earlier) or finds its bit
		// clear and sets it again.
		for w := range h.used {
			for bits := h.used[w].Swap(0); bits != 0; bits &= bits - 1 {
				h.counts[w*64+trailingZeros(bits)].Store(0)
			}
		}
	} else {
		for w := range h.used {
			for bits := h.used[w].Load(); bits != 0; bits &= bits - 1 {
				c := &h.counts[w*64+trailingZeros(bits)]
				for v := c.Load(); v != 0; v = c.Load() {
					if c.CompareAndSwap(v, v>>shift) {
						total += uint64(v >> shift)
						break
					}
				}
			}
		}
	}
	h.halvedTotal.Store(total)
	h.halvedSeq.Store(seq)
	h.halvedAt.Store(at)
	if shift >= 32 {
		h.frozen.Store(false)
	}
}

// total returns the weight of every sample, in units, given the
// estimator's sample count seq: what the last halving left, plus a unit
// per sample since, unless h is frozen. Samples added while a halving ran
// may count whole or halved; a few units either way do not move a
// quantile.
func (h *histogram) total(seq uint64) uint64 {
	if h.frozen.Load() {
		return h.halvedTotal.Load()
	}
	return h.halvedTotal.Load() + h.since(seq)<<weightShift
}

// guess returns a cautious hedge delay from too few samples for a
// quantile, given the estimator's sample count seq: none below MinSamples / 4 samples, then twice the largest,
// and, once there are MinSamples / 2 for a median to mean something, at
// most four times the median. It reports false without a guess, or if no
// bucket holds a whole sample's weight: samples halved that often are too
// old to guess from.
func (h *histogram) guess(seq uint64) (time.Duration, bool) {
	v := view{h: [2]*histogram{h}, seq: seq}
	var total uint64
	top := -1
	for w := range usedWords {
		for bits := v.bits(w); bits != 0; bits &= bits - 1 {
			i := w*64 + trailingZeros(bits)
			c := v.count(i)
			total += c
			if c >= 1<<weightShift {
				top = i
			}
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
	if mid, ok := v.quantileBucket(0.5, 0); ok {
		return min(2*upperBound(top), 4*upperBound(mid)), true
	}
	return 2 * upperBound(top), true // the counts raced with a halving
}

// view reads one histogram, or two as if they were one (the short
// memory's two generations; the second may be nil), as of the estimator's
// sample count seq.
type view struct {
	h   [2]*histogram
	seq uint64
}

// bits returns word w of the bitmap of buckets that may hold a count.
func (v view) bits(w int) uint64 {
	b := v.h[0].used[w].Load()
	if v.h[1] != nil {
		b |= v.h[1].used[w].Load()
	}
	return b
}

func (v view) count(i int) uint64 {
	c := uint64(v.h[0].counts[i].Load())
	if v.h[1] != nil {
		c += uint64(v.h[1].counts[i].Load())
	}
	return c
}

func (v view) total() uint64 {
	t := v.h[0].total(v.seq)
	if v.h[1] != nil {
		t += v.h[1].total(v.seq)
	}
	return t
}

// quantileBucket returns the bucket holding the q-quantile of the
// weighted samples, and false if they weigh less than minWeight samples.
func (v view) quantileBucket(q float64, minWeight uint64) (int, bool) {
	total := v.total()
	if total < minWeight<<weightShift || total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	last := -1
	for w := range usedWords {
		for bits := v.bits(w); bits != 0; bits &= bits - 1 {
			i := w*64 + trailingZeros(bits)
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
	for w := range b/64 + 1 {
		bits := v.bits(w)
		if w == b/64 {
			bits &= uint64(1)<<(b%64) - 1
		}
		for ; bits != 0; bits &= bits - 1 {
			below += v.count(w*64 + trailingZeros(bits))
		}
	}
	at := v.count(b)
	below = min(below, total) // counts and total are read at slightly different times
	at = min(at, total-below)
	return float64(total-below-at) / float64(total), float64(total-below) / float64(total), true
}

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }
