package breaker

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/tailguard/tailguard/internal/saturate"
)

// evictScan is how many entries a new key looks at, at most, to evict
// idle ones and, when the registry is full, the least recently used of
// them: the work of admitting a key is bounded whatever the registry's
// size. The entries looked at are the next ones under a clock hand that
// sweeps the registry's list, so every entry is visited once every
// len/evictScan new keys. Sampling instead of keeping an LRU list keeps
// lookups free of writes to shared structure (Redis approximates LRU by
// sampling too; the hand makes idle eviction deterministic).
const evictScan = 16

// entry is one key's breaker. It is safe for concurrent use.
type entry struct {
	name string                              // the key as users see it
	k    key                                 // the registry key
	slot int                                 // index in Breaker.list; guarded by Breaker.mu
	cb   *gobreaker.CircuitBreaker[struct{}] // the state machine
	busy *OpenError                          // refusal while half-open probes are busy; immutable

	// state, open and openUntil are written by onTransition under
	// gobreaker's mutex (or by the parole gate), each time under
	// transitions too, and read without either.
	transitions sync.Mutex                // serializes writers of state and the start of a parole
	state       atomic.Uint32             // State, as of the last transition
	open        atomic.Pointer[OpenError] // refusal of the current open period
	openUntil   atomic.Int64              // end of the last open period, ns since Breaker.epoch
	lastUsed    atomic.Int64              // last request start, ns since Breaker.epoch
	inflight    atomic.Int32              // requests in RoundTrip: admitted, waiting or being refused
	window      outcomes                  // settled outcomes by completion time, for the ratio rule

	hooks  hookQueue
	room   waitroom   // requests waiting for this key to admit them (Config.MaxWait)
	parole parole     // the gate of a key that came back from the graveyard
	fleet  fleetState // the fleet's view of the key (Config.Fleet)
}

// now returns the monotonic time since b was created, which is what every
// timestamp in the registry is measured in: int64 nanoseconds fit in
// atomics, and the monotonic clock ignores wall-clock jumps.
func (b *Breaker) now() int64 { return int64(time.Since(b.epoch)) }

// lookup returns k's entry, creating it if needed, marks it used and
// counts the caller in its inflight, which the caller must decrement. The
// count is taken under b.mu, so eviction never drops an entry between its
// lookup and its use.
func (b *Breaker) lookup(k key) *entry {
	now := b.now()
	b.mu.RLock()
	e := b.entries[k]
	if e != nil {
		e.inflight.Add(1)
	}
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
// timer is needed to keep it bounded, and the work is O(evictScan). A key
// remembered in the graveyard comes back on parole.
func (b *Breaker) insert(k key, now int64) *entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[k]; e != nil {
		e.inflight.Add(1)
		return e
	}
	b.evict(now)
	e := b.newEntry(k, now)
	if g, ok := b.graves.exhume(k); ok {
		b.restore(e, g)
	}
	e.inflight.Add(1)
	b.entries[k] = e
	e.slot = len(b.list)
	b.list = append(b.list, e)
	return e
}

// evict makes room for a new key. It looks at up to evictScan entries
// under the clock hand, drops those unused for IdleTTL and, if the
// registry is full, the least recently used one of the rest, preferring a
// closed key. Only an entry with requests in flight is never dropped: they
// hold its probe slots and wait room, and a fresh breaker would let
// callers through beside them. So the registry exceeds MaxKeys only when
// every entry looked at has requests in flight; while it is over, each new
// key looks twice as far and drops one more, so the excess shrinks back.
// b.mu is held.
func (b *Breaker) evict(now int64) {
	b.scan(now)
	if len(b.entries) > b.s.maxKeys {
		b.scan(now)
	}
}

// scan is one look at up to evictScan entries under the hand, for evict.
func (b *Breaker) scan(now int64) {
	var (
		victim       *entry
		victimClosed bool
	)
	for range min(evictScan, len(b.list)) {
		if b.hand >= len(b.list) {
			b.hand = 0
		}
		e := b.list[b.hand]
		if e.inflight.Load() == 0 && now-e.lastUsed.Load() >= int64(b.s.idleTTL) {
			b.drop(e) // the last entry moves into this slot: look at it next
			continue
		}
		b.hand++
		if e.inflight.Load() > 0 {
			continue
		}
		closed := State(e.state.Load()) == Closed && !e.parole.active.Load()
		if victim == nil || (closed && !victimClosed) ||
			(closed == victimClosed && e.lastUsed.Load() < victim.lastUsed.Load()) {
			victim, victimClosed = e, closed
		}
	}
	if len(b.entries) >= b.s.maxKeys && victim != nil {
		b.drop(victim)
	}
}

// drop evicts e. A key not known to be healthy — open, or half-open, or
// past its open period without a probe, or on parole — is remembered in
// the graveyard, so that it comes back on parole instead of closed. b.mu
// is held.
func (b *Breaker) drop(e *entry) {
	delete(b.entries, e.k)
	last := b.list[len(b.list)-1]
	b.list[e.slot], last.slot = last, e.slot
	b.list[len(b.list)-1] = nil
	b.list = b.list[:len(b.list)-1]
	switch {
	case e.parole.active.Load():
		b.graves.bury(e.k, e.parole.until.Load(), b.s.maxKeys)
	case State(e.state.Load()) != Closed:
		b.graves.bury(e.k, e.openUntil.Load(), b.s.maxKeys)
	}
}

// newEntry builds k's breaker. b.mu is held.
func (b *Breaker) newEntry(k key, now int64) *entry {
	e := &entry{name: k.String(), k: k}
	e.busy = &OpenError{Key: e.name, State: HalfOpen}
	e.fleet.polled.Store(neverPolled)
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
			if e.parole.probing(b.now()) {
				return true // a failed probe of a key on parole
			}
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
	e.transitions.Lock()
	defer e.transitions.Unlock()
	at := time.Now()
	if to == Open && e.parole.active.Load() {
		// gobreaker was closed behind the parole gate: a probe failed (the
		// gate was half-open), or, during the fleet's open period, requests
		// that slipped in as it began met this process's own trip rules.
		from = HalfOpen
		if b.now() < e.parole.until.Load() {
			from = Open
		}
		e.parole.active.Store(false)
	}
	led, _ := e.window.totals(at) // what led here, for the decision log
	e.window.reset()              // a new state starts a fresh window, as gobreaker's counts do
	if to == Open {
		// gobreaker admits a probe only once its expiry is strictly in the
		// past; one nanosecond more makes Until the first instant a probe is
		// admitted, so a caller that waits exactly RetryAfter (a request
		// waiting under MaxWait does, and fake clocks hit the boundary
		// exactly) is let in.
		until := at.Add(saturate.Add(b.s.openTimeout, time.Nanosecond))
		e.openUntil.Store(int64(until.Sub(b.epoch)))
		e.open.Store(&OpenError{Key: e.name, State: Open, Until: until})
	}
	e.state.Store(uint32(to))
	if b.s.maxWait > 0 {
		e.room.transition(to, int(b.s.probes))
	}
	e.hooks.recordLed(StateChange{Key: e.name, From: from, To: to, At: at}, led)
}

// flush delivers e's recorded transitions, if any, to the decision log
// and OnStateChange; ctx is the delivering request's. Every call into
// gobreaker is followed by one, after every lock is released.
func (b *Breaker) flush(ctx context.Context, e *entry) {
	if !e.hooks.queued.Load() {
		return
	}
	e.hooks.flushNoted(func(c StateChange, n note) { b.deliver(ctx, c, n) })
}

// flushHolding is flush for a caller about to return resp: if a hook or
// the logger panics, resp, which the caller will then never see, is closed
// on the way out.
func (b *Breaker) flushHolding(ctx context.Context, e *entry, resp *http.Response) {
	returned := false
	defer func() {
		if !returned && resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
	}()
	b.flush(ctx, e)
	returned = true
}

// flushOutside is flush for a caller outside any request (StateOf,
// Snapshot): the context is built only when there is something to
// deliver.
func (b *Breaker) flushOutside(e *entry) {
	if e.hooks.queued.Load() {
		b.flush(b.outside(), e)
	}
}
