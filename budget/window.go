package budget

import "time"

// numBuckets is how many buckets a window is split into. Ten keeps the ring
// small enough to rotate with a loop while bounding how early an attempt can
// expire to a tenth of the window.
const numBuckets = 10

// tally counts first and extra attempts.
type tally struct {
	firsts uint64
	extras uint64
}

// window is a rolling pair of counters over a fixed duration: a ring of
// numBuckets buckets, the head collecting the present. It never reads the
// clock and starts no goroutine; every method takes the current instant and
// rotates lazily, the way rate.Limiter refills tokens only when asked.
//
// The zero window is not usable; call init first. A window is not safe for
// concurrent use; Budget guards it with its mutex.
type window struct {
	width   time.Duration // duration of one bucket, at least 1ns
	buckets [numBuckets]tally
	head    int       // index of the bucket collecting the present
	start   time.Time // when the head bucket began; valid once started
	started bool      // whether start is set (a zero time.Time is a valid instant for tests)
	sum     tally     // sum of all buckets, kept so reads are O(1)
}

// init empties w and sets its total duration.
func (w *window) init(d time.Duration) {
	*w = window{width: max(d/numBuckets, 1)}
}

// advance rotates w so that its head bucket contains now, dropping buckets
// that fell out of the window.
func (w *window) advance(now time.Time) {
	if !w.started {
		w.start, w.started = now, true
		return
	}
	elapsed := now.Sub(w.start)
	switch {
	case elapsed < 0:
		// The clock went backwards (only possible with wall-clock instants;
		// time.Now carries a monotonic reading). Re-anchor the head at now
		// and keep the counts: forgetting them would let a clock step burst
		// extras, and keeping the old anchor would freeze rotation until the
		// clock caught up. Everything recorded still expires within one
		// window of further progress.
		w.start = now
	case elapsed < w.width:
		// Still inside the head bucket.
	case elapsed >= numBuckets*w.width:
		// A gap as long as the window: nothing recorded still counts.
		w.clear()
		w.start = now
	default:
		steps := int(elapsed / w.width)
		for range steps {
			w.head = (w.head + 1) % numBuckets
			old := &w.buckets[w.head]
			w.sum.firsts -= old.firsts
			w.sum.extras -= old.extras
			*old = tally{}
		}
		w.start = w.start.Add(time.Duration(steps) * w.width)
	}
}

// clear drops all counts, keeping width.
func (w *window) clear() {
	w.buckets = [numBuckets]tally{}
	w.sum = tally{}
}

// addFirst records one first attempt at the instant of the last advance.
func (w *window) addFirst() {
	w.buckets[w.head].firsts++
	w.sum.firsts++
}

// addExtra records one extra attempt at the instant of the last advance.
func (w *window) addExtra() {
	w.buckets[w.head].extras++
	w.sum.extras++
}
