package throttle

import "time"

// windowBuckets is how many buckets a window is split into: a count stops
// counting between 0.9 and 1 window after it was recorded.
const windowBuckets = 10

// pair is two counts recorded together: requests and accepts for the
// adaptive throttler, admissions for the send-rate meter (b unused).
type pair struct{ a, b uint64 }

// window counts pairs over a rolling duration: a ring of buckets whose
// head collects the present. It reads no clock and starts no goroutine:
// every method takes now and rotates lazily, as rate.Limiter refills
// tokens only when asked. It is not safe for concurrent use; its owner
// guards it.
type window struct {
	width   time.Duration // one bucket, at least 1ns
	buckets [windowBuckets]pair
	head    int       // index of the bucket collecting the present
	headAt  time.Time // when the head bucket began; zero before first use
	first   time.Time // first record since the window was last empty
	sum     pair      // total over all buckets, so reads are O(1)
}

func newWindow(d time.Duration) window {
	return window{width: max(d/windowBuckets, 1)}
}

// advance rotates w so that its head bucket covers now.
func (w *window) advance(now time.Time) {
	if w.headAt.IsZero() || now.Before(w.headAt) {
		// First use, or a wall-clock step back (time.Now is monotonic,
		// tests pass what they like): restart the head at now and keep the
		// counts, which still expire within a window of further progress.
		w.headAt = now
		return
	}
	steps := int64(now.Sub(w.headAt) / w.width)
	if steps >= windowBuckets {
		*w = window{width: w.width, headAt: now}
		return
	}
	for range steps {
		w.head = (w.head + 1) % windowBuckets
		w.sum.a -= w.buckets[w.head].a
		w.sum.b -= w.buckets[w.head].b
		w.buckets[w.head] = pair{}
	}
	w.headAt = w.headAt.Add(time.Duration(steps) * w.width)
	if w.sum == (pair{}) {
		w.first = time.Time{}
	}
}

// add records a and b at now.
func (w *window) add(now time.Time, a, b uint64) {
	w.advance(now)
	if w.first.IsZero() {
		w.first = now
	}
	w.buckets[w.head].a += a
	w.buckets[w.head].b += b
	w.sum.a += a
	w.sum.b += b
}

// totals returns the counts within the window at now.
func (w *window) totals(now time.Time) pair {
	w.advance(now)
	return w.sum
}

// rate returns a's count per second at now, over the time the window has
// been collecting since it was last empty, but at least minSpan: a burst
// of 16 requests in the first millisecond is not a rate of 16,000/s.
func (w *window) rate(now time.Time, minSpan time.Duration) float64 {
	w.advance(now)
	if w.sum.a == 0 {
		return 0
	}
	span := min(now.Sub(w.first), windowBuckets*w.width)
	span = max(span, minSpan)
	return float64(w.sum.a) / span.Seconds()
}
