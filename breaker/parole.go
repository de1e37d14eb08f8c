package breaker

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// parole is the state of a key that came back from the graveyard: it was
// evicted while open (or past its open period, before a probe), so it must
// not come back closed and let a burst through. gobreaker cannot be
// created open or half-open, so the key's fresh gobreaker stays closed and
// this gate in front of it plays the part: the key refuses requests as
// Open until its remembered open period ends, then lets HalfOpenProbes
// probes through at a time, refusing the rest as HalfOpen. That many
// successes end the parole (reported HalfOpen → Closed); a failure trips
// gobreaker (ReadyToTrip says yes while on parole), which opens the key
// for a full OpenTimeout (reported HalfOpen → Open). Excluded outcomes
// free their slot, as in gobreaker's half-open state.
//
// The fields are set before the entry is published and then only read,
// except the counters. A key that was never evicted pays one atomic load
// per request for it.
type parole struct {
	active    atomic.Bool  // the key is on parole
	until     int64        // refused as open before this instant, ns since Breaker.epoch
	announced atomic.Bool  // Open → HalfOpen was reported
	probes    atomic.Int32 // probes in flight
	wins      atomic.Uint32
}

// restore puts a new entry on parole, open until g.until. b.mu is held and
// e is not yet published.
func (b *Breaker) restore(e *entry, g grave) {
	e.parole.until = g.until
	e.parole.active.Store(true)
	e.state.Store(uint32(Open))
	e.open.Store(&OpenError{Key: e.name, State: Open, Until: b.epoch.Add(time.Duration(g.until))})
}

// currentState is e's state for State and Snapshot: on parole, Open until the
// remembered open period ends and HalfOpen after; otherwise gobreaker's.
func (e *entry) currentState(now int64) State {
	if e.parole.active.Load() {
		if now < e.parole.until {
			return Open
		}
		return HalfOpen
	}
	return fromGobreaker(e.cb.State()) // may turn Open into HalfOpen
}

// paroled is attempt for a key on parole.
func (t *transport) paroled(e *entry, req *http.Request) (*http.Response, verdict, *OpenError, error) {
	b := t.b
	p := &e.parole
	if b.now() < p.until {
		return nil, excluded, e.open.Load(), nil
	}
	if p.announced.CompareAndSwap(false, true) {
		b.paroleTransition(req.Context(), e, Open, HalfOpen)
	}
	if p.probes.Add(1) > int32(min(b.s.probes, 1<<30)) {
		p.probes.Add(-1)
		return nil, excluded, e.busy, nil
	}
	resp, v, refused, err := t.execute(e, req)
	p.probes.Add(-1)
	if v == excluded && b.s.maxWait > 0 {
		e.room.freed()
	}
	if v == success && p.wins.Add(1) >= b.s.probes && p.active.CompareAndSwap(true, false) {
		b.paroleTransition(req.Context(), e, HalfOpen, Closed)
	}
	return resp, v, refused, err
}

// paroleTransition reports a transition of the parole gate the way
// onTransition reports gobreaker's.
func (b *Breaker) paroleTransition(ctx context.Context, e *entry, from, to State) {
	e.state.Store(uint32(to))
	if b.s.maxWait > 0 {
		e.room.transition(to, int(b.s.probes))
	}
	e.hooks.record(StateChange{Key: e.name, From: from, To: to, At: time.Now()})
	b.flush(ctx, e)
}
