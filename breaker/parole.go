package breaker

import (
	"net/http"
	"sync/atomic"
	"time"
)

// parole is the state of a key that is open, then half-open, without
// gobreaker having opened it: a key that came back from the graveyard (it
// was evicted while open, or past its open period before a probe, so it
// must not come back closed and let a burst through), and a key the fleet
// opened (a quorum of the processes calling it reported it open, see
// [Fleet]). gobreaker cannot be opened from outside, so the key's
// gobreaker stays closed and this gate in front of it plays the part: the
// key refuses requests as Open until until, then lets HalfOpenProbes
// probes through at a time, refusing the rest as HalfOpen. That many
// successes end the parole (reported HalfOpen → Closed); a failed probe
// trips gobreaker (ReadyToTrip says yes for a key on parole past until),
// which opens the key for a full OpenTimeout (reported HalfOpen → Open).
// Excluded outcomes free their slot, as in gobreaker's half-open state.
//
// A key that was never on parole pays one atomic load per request for it.
type parole struct {
	active    atomic.Bool  // the key is on parole
	until     atomic.Int64 // refused as open before this instant, ns since Breaker.epoch
	announced atomic.Bool  // Open → HalfOpen was reported
	probes    atomic.Int32 // probes in flight
	wins      atomic.Uint32
}

// probing reports whether a key on parole is past its open period, so
// that a failure is a failed probe.
func (p *parole) probing(now int64) bool { return p.active.Load() && now >= p.until.Load() }

// restore puts a new entry on parole, open until g.until. b.mu is held and
// e is not yet published.
func (b *Breaker) restore(e *entry, g grave) {
	e.parole.until.Store(g.until)
	e.parole.active.Store(true)
	e.state.Store(uint32(Open))
	e.open.Store(&OpenError{Key: e.name, State: Open, Until: b.epoch.Add(time.Duration(g.until))})
}

// currentState is e's state for StateOf and Snapshot: on parole, Open until
// its open period ends and HalfOpen after (recording that transition, as
// gobreaker records its own when asked); otherwise gobreaker's. The
// caller flushes e's transitions.
func (b *Breaker) currentState(e *entry, now int64) State {
	if e.parole.active.Load() {
		if now < e.parole.until.Load() {
			return Open
		}
		if e.parole.announced.CompareAndSwap(false, true) {
			b.paroleTransition(e, Open, HalfOpen)
		}
		if e.parole.active.Load() {
			return HalfOpen
		}
	}
	return fromGobreaker(e.cb.State()) // may turn Open into HalfOpen
}

// paroled is attempt for a key on parole.
func (t *transport) paroled(e *entry, req *http.Request) (*http.Response, verdict, *OpenError, error) {
	b := t.b
	p := &e.parole
	if b.now() < p.until.Load() {
		return nil, excluded, e.open.Load(), nil
	}
	if p.announced.CompareAndSwap(false, true) {
		b.paroleTransition(e, Open, HalfOpen)
		b.flush(req.Context(), e)
	}
	if p.probes.Add(1) > int32(min(b.s.probes, 1<<30)) {
		p.probes.Add(-1)
		return nil, excluded, e.busy, nil
	}
	released := false
	defer func() {
		if !released {
			// The probe panicked: its slot is free again, or the key
			// would refuse "half-open, probe in flight" forever.
			p.probes.Add(-1)
			if b.s.maxWait > 0 {
				e.room.freed()
			}
		}
	}()
	resp, v, refused, err := t.execute(e, req)
	released = true
	p.probes.Add(-1)
	if v == excluded && b.s.maxWait > 0 {
		e.room.freed()
	}
	if v == success && p.wins.Add(1) >= b.s.probes && p.active.CompareAndSwap(true, false) {
		b.paroleTransition(e, HalfOpen, Closed)
		b.flushHolding(req.Context(), e, resp)
	}
	return resp, v, refused, err
}

// paroleTransition records a transition of the parole gate the way
// onTransition records gobreaker's; the caller flushes it.
func (b *Breaker) paroleTransition(e *entry, from, to State) {
	e.transitions.Lock()
	defer e.transitions.Unlock()
	at := time.Now()
	led, _ := e.window.totals(at)
	e.window.reset() // a new state starts a fresh window, as in onTransition
	e.state.Store(uint32(to))
	if b.s.maxWait > 0 {
		e.room.transition(to, int(b.s.probes))
	}
	e.hooks.recordLed(StateChange{Key: e.name, From: from, To: to, At: at}, led)
}

// hold opens e on the fleet's word until until (ns since b.epoch), as a
// parole: Open until then, then HalfOpen with probes. A key that is not
// closed is left alone — open or half-open by its own rules, it already
// refuses and probes by them — except that a fleet hold still in its
// open period is extended when a newer report ends later. It reports
// whether a hold began; the caller flushes the transition.
func (b *Breaker) hold(e *entry, until int64) bool {
	e.transitions.Lock()
	defer e.transitions.Unlock()
	oe := &OpenError{Key: e.name, State: Open, Until: b.epoch.Add(time.Duration(until))}
	p := &e.parole
	if p.active.Load() {
		if cur := p.until.Load(); b.now() < cur && until > cur {
			p.until.Store(until)
			e.open.Store(oe)
		}
		return false
	}
	if State(e.state.Load()) != Closed {
		return false
	}
	p.until.Store(until)
	p.announced.Store(false)
	p.wins.Store(0)
	e.open.Store(oe)
	e.openUntil.Store(until)
	led, _ := e.window.totals(time.Now())
	// A new generation: attempts sent before the hold do not count once it
	// has begun (see execute), as after any state change.
	e.window.reset()
	p.active.Store(true)
	e.state.Store(uint32(Open))
	if b.s.maxWait > 0 {
		e.room.transition(Open, int(b.s.probes))
	}
	e.hooks.recordFleet(StateChange{Key: e.name, From: Closed, To: Open, At: time.Now()}, led)
	return true
}
