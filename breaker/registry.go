package breaker

import (
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// evictSamples is how many evictable entries are compared when the
// registry is full, to drop the least recently used of them. Sampling
// instead of keeping an LRU list keeps lookups free of writes to shared
// structure (Redis approximates LRU the same way).
const evictSamples = 8

// entry is one key's breaker. It is safe for concurrent use.
type entry struct {
	name string                              // the key as users see it
	cb   *gobreaker.CircuitBreaker[struct{}] // the state machine
	busy *OpenError                          // refusal while half-open probes are busy; immutable

	// state, open and openUntil are written by onTransition under
	// gobreaker's mutex and read without it.
	state     atomic.Uint32             // State, as of the last transition
	open      atomic.Pointer[OpenError] // refusal of the current open period
	openUntil atomic.Int64              // end of the last open period, ns since Breaker.epoch
	lastUsed  atomic.Int64              // last request start, ns since Breaker.epoch
	inflight  atomic.Int32              // requests admitted and not yet settled
	window    outcomes                  // settled outcomes by completion time, for the ratio rule

	hooks hookQueue
	room  waitroom // requests waiting for this key to admit them (Config.MaxWait)
}

// now returns the monotonic time since b was created, which is what every
// timestamp in the registry is measured in: int64 nanoseconds fit in
// atomics, and the monotonic clock ignores wall-clock jumps.
func (b *Breaker) now() int64 { return int64(time.Since(b.epoch)) }

// lookup returns k's entry, creating it if needed, and marks it used.
func (b *Breaker) lookup(k key) *entry {
	now := b.now()
	b.mu.RLock()
	e := b.entries[k]
	b.mu.RUnlock()
	if e == nil {
		e = b.insert(k, now)
	}
	// Skipping the store when the stamp is recent keeps concurrent requests
	// to one host from bouncing its cache line on every call.
	if now-e.lastUsed.Load() >= b.touchEvery {
		e.lastUsed.Store(now)
	}
	return e
}

// insert adds k's entry unless another goroutine just did. Eviction runs
// here, lazily, because the registry only grows here: no goroutine or
// timer is needed to keep it bounded.
func (b *Breaker) insert(k key, now int64) *entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[k]; e != nil {
		return e
	}
	if now-b.lastSweep >= int64(b.s.idleTTL) {
		b.sweep(now)
		b.lastSweep = now
	}
	if len(b.entries) >= b.s.maxKeys {
		b.evictOne(now)
	}
	e := b.newEntry(k, now)
	b.entries[k] = e
	return e
}

// evictable reports whether dropping e would forget nothing that matters.
// An entry with requests in flight is kept: they hold its probe slots, and
// a fresh closed breaker would let every caller through beside them. So is
// one in its open period, or the sick host would be hit at once. Dropping
// any other loses at most the counts of a window, or forgets a host nobody
// called since its open period ended, which then starts afresh as closed.
func (e *entry) evictable(now int64) bool {
	if e.inflight.Load() > 0 {
		return false
	}
	return State(e.state.Load()) != Open || now >= e.openUntil.Load()
}

// sweep drops every evictable entry unused for IdleTTL. b.mu is held.
func (b *Breaker) sweep(now int64) {
	for k, e := range b.entries {
		if now-e.lastUsed.Load() >= int64(b.s.idleTTL) && e.evictable(now) {
			delete(b.entries, k)
		}
	}
}

// evictOne drops the least recently used of up to evictSamples evictable
// entries, taken in Go's randomised map order. If none is evictable, every
// key is in its open period and the registry grows past MaxKeys: forgetting
// an open breaker would send traffic to a host known to be failing. b.mu
// is held.
func (b *Breaker) evictOne(now int64) {
	var (
		victim key
		oldest int64
		found  int
	)
	for k, e := range b.entries {
		if !e.evictable(now) {
			continue
		}
		if used := e.lastUsed.Load(); found == 0 || used < oldest {
			victim, oldest = k, used
		}
		if found++; found == evictSamples {
			break
		}
	}
	if found > 0 {
		delete(b.entries, victim)
	}
}

// newEntry builds k's breaker. b.mu is held.
func (b *Breaker) newEntry(k key, now int64) *entry {
	e := &entry{name: k.String()}
	e.busy = &OpenError{Key: e.name, State: HalfOpen}
	e.window.period = b.s.window / windowBuckets
	e.lastUsed.Store(now)
	e.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        e.name,
		MaxRequests: b.s.probes,
		// No Interval: gobreaker's counts then clear only on state
		// changes, and the ratio rule reads e.window instead (see
		// outcomes for why gobreaker's own rolling window is not used).
		Timeout: b.s.openTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			w, _ := e.window.totals(time.Now())
			return b.s.readyToTrip(c, w)
		},
		IsSuccessful: isSuccessful,
		IsExcluded:   isExcluded,
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.onTransition(e, fromGobreaker(from), fromGobreaker(to))
		},
	})
	return e
}

// onTransition runs under gobreaker's mutex: it only records. The refusal
// error of a new open period is built here, once, so that refusing a
// request allocates nothing.
func (b *Breaker) onTransition(e *entry, from, to State) {
	at := time.Now()
	e.window.reset() // a new state starts a fresh window, as gobreaker's counts do
	if to == Open {
		// gobreaker admits a probe only once its expiry is strictly in the
		// past; one nanosecond more makes Until the first instant a probe is
		// admitted, so a caller that waits exactly RetryAfter (a request
		// waiting under MaxWait does, and fake clocks hit the boundary
		// exactly) is let in.
		until := at.Add(b.s.openTimeout + time.Nanosecond)
		e.openUntil.Store(int64(until.Sub(b.epoch)))
		e.open.Store(&OpenError{Key: e.name, State: Open, Until: until})
	}
	e.state.Store(uint32(to))
	if b.s.maxWait > 0 {
		e.room.transition(to, int(b.s.probes))
	}
	if b.s.onStateChange != nil {
		e.hooks.record(StateChange{Key: e.name, From: from, To: to, At: at})
	}
}

// flush delivers e's recorded transitions, if any. Every call into
// gobreaker is followed by one, after every lock is released.
func (b *Breaker) flush(e *entry) {
	if b.s.onStateChange != nil {
		e.hooks.flush(b.s.onStateChange)
	}
}
