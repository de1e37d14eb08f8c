package budget

import "time"

// numBuckets is how many buckets one window is split into. Twenty bounds the
// rule's granularity (see allows) to a twentieth of the window while keeping
// the ring small enough to scan on every call.
const numBuckets = 20

// tally counts first and extra attempts.
type tally struct {
	firsts uint64
	extras uint64
}

// window is a ring of counters over the recent past: numBuckets + 1
// buckets of width Window / numBuckets, the head collecting the present, so
// the ring always reaches at least one whole Window back. It never reads
// the clock and starts no goroutine; every method takes the current instant
// and rotates lazily, the way rate.Limiter refills tokens only when asked.
//
// The zero window is not usable; call init first. A window is not safe for
// concurrent use; Budget guards it with its mutex.
type window struct {
	width   time.Duration // duration of one bucket, at least 1ns
	buckets [numBuckets + 1]tally
	head    int       // index of the bucket collecting the present
	start   time.Time // when the head bucket began; valid once started
	started bool      // whether start is set (a zero time.Time is a valid instant for tests)
}

// init empties w and sets its total duration.
func (w *window) init(d time.Duration) {
	*w = window{width: max(d/numBuckets, 1)}
}

// advance rotates w so that its head bucket contains now, dropping buckets
// that fell out of the ring.
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
	case elapsed/w.width >= time.Duration(len(w.buckets)): // the ring's span, len × width, may not fit a Duration
		// A gap longer than the ring: nothing recorded still counts.
		w.buckets = [numBuckets + 1]tally{}
		w.start = now
	default:
		steps := int(elapsed / w.width)
		for range steps {
			w.head = (w.head + 1) % len(w.buckets)
			w.buckets[w.head] = tally{}
		}
		w.start = w.start.Add(time.Duration(steps) * w.width)
	}
}

// allows reports whether one more extra attempt keeps every span ending
// now within the rule: for each suffix of the ring — the head bucket, the
// head and the one before, ..., all numBuckets + 1 —
//
//	extras + 1 ≤ ratio × firsts + floor
//
// A span that starts inside a bucket is checked as if it began with that
// bucket, so it is credited with the firsts of at most one bucket before it:
// the bound holds for every span of Window to within Window / numBuckets of
// firsts. Checking every suffix, not only the whole ring, is what stops a
// burst: extras earned by first attempts a second ago cannot all be spent
// in the last few milliseconds.
func (w *window) allows(ratio, floor float64) bool {
	var t tally
	i := w.head
	for range len(w.buckets) {
		t.firsts += w.buckets[i].firsts
		t.extras += w.buckets[i].extras
		if !fits(t, ratio, floor) {
			return false
		}
		i = (i + len(w.buckets) - 1) % len(w.buckets)
	}
	return true
}

// fits reports whether one more extra attempt fits the counts t.
func fits(t tally, ratio, floor float64) bool {
	allowance := ratio*float64(t.firsts) + floor
	return float64(t.extras+1) <= allowance*(1+slackRel)+slackAbs
}

// sum returns the counts of the whole ring.
func (w *window) sum() tally {
	var t tally
	for _, b := range w.buckets {
		t.firsts += b.firsts
		t.extras += b.extras
	}
	return t
}

// addFirst records one first attempt at the instant of the last advance.
func (w *window) addFirst() { w.buckets[w.head].firsts++ }

// addExtra records one extra attempt at the instant of the last advance.
func (w *window) addExtra() { w.buckets[w.head].extras++ }
