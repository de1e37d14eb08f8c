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
// The window belongs to one generation of the state machine: every state
// change starts a new one ([outcomes.reset]). An attempt takes the
// generation when it is sent ([outcomes.admit]) and its outcome counts only
// if the generation is still the same when it settles, as gobreaker does
// for its own counts. Otherwise a slow failure admitted before a trip would
// land in the window a successful probe has just opened, and re-open a host
// that recovered (issue 11, bug 5).
//
// Buckets rotate lazily from the instants passed in: no goroutine.
type outcomes struct {
	mu       sync.Mutex // guards everything below
	period   time.Duration
	buckets  [windowBuckets]tally
	head     int       // index of the bucket that started at headAt
	headAt   time.Time // start of the current bucket; zero before first use
	sum      tally     // total over all buckets
	gen      uint64    // bumped by every reset
	inflight uint32    // attempts admitted in generation gen, not yet settled
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

// admit counts an attempt as in flight and returns the generation its
// outcome belongs to.
func (w *outcomes) admit() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight++
	return w.gen
}

// record counts v as finished at now if gen, the attempt's generation, is
// still current, and returns the window's totals and whether v counted.
func (w *outcomes) record(now time.Time, v verdict, gen uint64) (tally, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(now)
	if gen != w.gen {
		return w.sum, false
	}
	w.inflight--
	w.buckets[w.head].add(v, 1)
	w.sum.add(v, 1)
	return w.sum, true
}

// abandon forgets an attempt of generation gen that settled without an
// outcome (it panicked).
func (w *outcomes) abandon(gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if gen == w.gen {
		w.inflight--
	}
}

// totals returns the window's totals at now, and how many attempts of the
// current generation are in flight.
func (w *outcomes) totals(now time.Time) (tally, uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(now)
	return w.sum, w.inflight
}

// reset starts a new generation with an empty window: a state change
// starts afresh, as gobreaker's counts do, and attempts in flight from
// before it will not count.
func (w *outcomes) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buckets = [windowBuckets]tally{}
	w.sum = tally{}
	w.headAt = time.Time{}
	w.gen++
	w.inflight = 0
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
