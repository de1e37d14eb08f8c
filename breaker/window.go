package breaker

import (
	"sync"
	"time"
)

// outcomes counts one key's settled outcomes over the rolling window, by
// the instant each attempt finished.
//
// gobreaker's own rolling window (BucketPeriod) files an outcome under the
// bucket in which its request started and drops it when that bucket has
// rolled out by the time the request finishes. An upstream that fails
// slowly — a gateway answering 504 after 30 s — would then never be
// counted at all, by either rule, which is exactly when a breaker is
// needed. So gobreaker keeps the state machine and the consecutive counts
// (its Interval is zero: counts clear only on state changes), and this
// window, keyed by completion time, feeds the ratio rule.
//
// Buckets rotate lazily from the instants passed in: no goroutine.
type outcomes struct {
	mu      sync.Mutex // guards everything below
	period  time.Duration
	buckets [windowBuckets]tally
	head    int       // index of the bucket that started at headAt
	headAt  time.Time // start of the current bucket; zero before first use
	sum     tally     // total over all buckets
}

// tally is one bucket's outcomes.
type tally struct{ successes, failures, excluded uint32 }

func (t *tally) add(v verdict, d uint32) {
	switch v {
	case success:
		t.successes += d
	case failure:
		t.failures += d
	default:
		t.excluded += d
	}
}

func (t *tally) sub(o tally) {
	t.successes -= o.successes
	t.failures -= o.failures
	t.excluded -= o.excluded
}

// record counts v as finished at now, and returns the window's totals
// including it.
func (w *outcomes) record(now time.Time, v verdict) tally {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(now)
	w.buckets[w.head].add(v, 1)
	w.sum.add(v, 1)
	return w.sum
}

// totals returns the window's totals at now.
func (w *outcomes) totals(now time.Time) tally {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(now)
	return w.sum
}

// reset forgets everything: a state change starts a fresh window, as
// gobreaker's counts do.
func (w *outcomes) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buckets = [windowBuckets]tally{}
	w.sum = tally{}
	w.headAt = time.Time{}
}

// advance rotates the ring so that the head bucket covers now. w.mu is
// held.
func (w *outcomes) advance(now time.Time) {
	if w.headAt.IsZero() || now.Before(w.headAt) {
		// First use, or the clock stepped back: restart the current
		// bucket at now and keep the counts, which still expire in time.
		w.headAt = now
		return
	}
	steps := int64(now.Sub(w.headAt) / w.period)
	if steps >= windowBuckets {
		w.buckets = [windowBuckets]tally{}
		w.sum = tally{}
		w.headAt = now
		return
	}
	for range steps {
		w.head = (w.head + 1) % windowBuckets
		w.sum.sub(w.buckets[w.head])
		w.buckets[w.head] = tally{}
	}
	w.headAt = w.headAt.Add(time.Duration(steps) * w.period)
}
