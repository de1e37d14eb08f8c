package breaker

import (
	"sync"
	"sync/atomic"
	"time"
)

// StateChange describes one transition of one key's breaker, as passed to
// Config.OnStateChange.
//
// # Delivery
//
// gobreaker announces transitions while holding its mutex, so a hook that
// reads the breaker's state from there deadlocks (gobreaker #37). tailguard
// only records the transition under that mutex and calls OnStateChange
// afterwards, on a goroutine that was calling into the [Breaker] — the
// RoundTrip whose outcome caused the change, or a later RoundTrip, StateOf or
// Snapshot call of the same key — once every lock is released. Hence:
//
//   - the hook may call [Breaker.StateOf] and [Breaker.Snapshot], and may send
//     requests through the breaker;
//   - it is called exactly once per transition, and calls for one key never
//     overlap and arrive in the order of the transitions; calls for
//     different keys may run concurrently;
//   - Open → HalfOpen happens lazily, like everything time-based here: it is
//     reported by the first call that finds OpenTimeout elapsed, not when the
//     timeout fires (no timer goroutine exists);
//   - a slow hook delays the caller that delivers it, and a hook that panics
//     panics that caller; later transitions are still delivered.
type StateChange struct {
	// Key is the breaker's key.
	Key string
	// From and To are the states before and after the transition.
	From, To State
	// At is when the transition happened; delivery can be slightly later.
	At time.Time
}

// hookQueue holds one key's recorded transitions until they are delivered.
// It is safe for concurrent use.
type hookQueue struct {
	queued atomic.Bool // pending is non-empty: lets flush skip the mutex

	mu         sync.Mutex    // guards pending, notes and delivering
	pending    []StateChange // recorded, not yet delivered, in order
	notes      []note        // what the decision log and the fleet need to know of pending[i]
	delivering bool          // a goroutine is running the hook for this key
}

// note is what a recorded transition carries besides its StateChange.
type note struct {
	led     tally // the window's outcomes that led to it, for the decision log
	byFleet bool  // the fleet opened the key (Config.Fleet), not this process's own outcomes
}

// record queues c. It runs under gobreaker's mutex, so it must not call
// out; it only takes q.mu, which is never held while calling gobreaker.
func (q *hookQueue) record(c StateChange) { q.recordNote(c, note{}) }

// recordLed is record, with the window's outcomes that led to c.
func (q *hookQueue) recordLed(c StateChange, led tally) { q.recordNote(c, note{led: led}) }

// recordFleet is recordLed for a key the fleet opened.
func (q *hookQueue) recordFleet(c StateChange, led tally) {
	q.recordNote(c, note{led: led, byFleet: true})
}

func (q *hookQueue) recordNote(c StateChange, n note) {
	q.mu.Lock()
	q.pending = append(q.pending, c)
	q.notes = append(q.notes, n)
	q.queued.Store(true)
	q.mu.Unlock()
}

// flush delivers queued transitions to hook, in order, holding no lock
// while hook runs. If another goroutine is already delivering for this key
// it returns at once: that goroutine delivers what was queued here too
// before it stops, which is what keeps one key's calls ordered and never
// overlapping, and makes a hook that calls StateOf (which may record a
// transition) safe from re-entering itself.
func (q *hookQueue) flush(hook func(StateChange)) {
	q.flushNoted(func(c StateChange, _ note) { hook(c) })
}

// flushNoted is flush, with each transition's note.
func (q *hookQueue) flushNoted(hook func(StateChange, note)) {
	if !q.queued.Load() {
		return
	}
	q.mu.Lock()
	if q.delivering {
		q.mu.Unlock()
		return
	}
	q.delivering = true
	q.mu.Unlock()
	q.deliver(hook)
}

// deliver pops and delivers one transition at a time, so that a hook that
// panics consumes only its own transition; the rest stay queued for the
// next caller.
func (q *hookQueue) deliver(hook func(StateChange, note)) {
	clean := false
	defer func() {
		if !clean {
			q.mu.Lock()
			q.delivering = false
			q.mu.Unlock()
		}
	}()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.pending, q.notes = nil, nil
			q.queued.Store(false)
			q.delivering = false
			q.mu.Unlock()
			clean = true
			return
		}
		c, n := q.pending[0], q.notes[0]
		q.pending, q.notes = q.pending[1:], q.notes[1:]
		q.mu.Unlock()
		hook(c, n)
	}
}
