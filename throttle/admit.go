package throttle

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/internal/attempt"
)

// ticket is an admitted request's hold on its host, settled by learn or
// abandon.
type ticket struct {
	debut    bool      // it holds one of its new host's first places (see debut)
	probe    bool      // the request is its gate's probe
	slot     bool      // it holds a concurrency slot
	limited  bool      // it waited for the pacing: demand reached the rate
	inFlight bool      // it counts in its host's sent requests until settled
	alone    bool      // no other request to its host was in flight when it went
	sentAt   time.Time // when it was admitted
	pacedAt  time.Time // when it took its turn in the host's pace, which the rate then in force set
}

// waiter is one request's way through admission: what it may wait for,
// until when, and how long it has waited for what.
type waiter struct {
	ctx      context.Context
	req      *http.Request
	h        *host
	optional bool      // a spare copy (attempt.Spare): never waits
	start    time.Time // arrival
	limit    time.Time // the last instant a wait may end at
	// deadline is true when limit is the context's deadline rather than
	// MaxWait: a wait of unknown length (for a probe's answer, for a
	// concurrency slot) then runs until the context ends and returns
	// ctx.Err(), as the context's owner expects, instead of a rejection a
	// nanosecond before.
	deadline bool
	waits    [len(reasonNames)]time.Duration
	jitter   time.Duration // its instant in a gate's release window; -1 until drawn
	waited   bool          // it has waited for the gate
	released bool          // an opening released it: it does not wait for the release window
	blocked  bool          // it has waited for anything
}

// admit lets req through its host's parts (see [Throttle]), waiting as
// allowed, and sets *tk to its ticket, or returns the rejection or context
// error that ends it. It calls OnThrottle when the request waited or is
// rejected; *tk is set before, so that the caller settles it even if
// OnThrottle or the logger panics.
func (t *Throttle) admit(req *http.Request, h *host, out *ticket) error {
	ctx := req.Context()
	w := waiter{ctx: ctx, req: req, h: h, start: time.Now(), jitter: -1}
	// A spare copy: a hedge racing a live attempt of its request. A hedge
	// that stands in for a failed attempt (or a retry inside it) is the
	// request's only attempt and waits like one (attempt.Spare).
	w.optional = attempt.Spare(ctx)
	w.limit = w.start.Add(t.s.maxWait)
	if dl, ok := ctx.Deadline(); ok && !dl.After(w.limit) {
		// A wait that ends at the deadline leaves no time to send.
		w.limit, w.deadline = dl.Add(-1), true
	}
	if w.optional || t.s.maxWait < 0 {
		w.limit, w.deadline = w.start, false
	}

	if w.optional {
		// A host that refused requests lately has no spare capacity for
		// copies of them: a hedge would only add to the load it refuses.
		if at := h.pushedBack.Load(); at != 0 {
			if until := time.Unix(0, at).Add(HedgeHoldoff); w.start.Before(until) {
				return t.reject(&w, Gate, until)
			}
		}
	}
	if p := h.adaptive.rejectProbability(w.start); p > 0 && rand.Float64() < p {
		h.adaptive.record(w.start, false)
		return t.reject(&w, Adaptive, time.Time{})
	}
	first, err := t.passDebut(&w)
	if err != nil {
		return err
	}
	out.debut = first // settled by abandon should anything below panic
	var tk ticket
	for retry := true; retry; {
		if tk, retry, err = t.pass(&w); err != nil {
			if out.debut {
				out.debut = false
				h.debut.settle(false)
			}
			return err
		}
	}
	tk.sentAt = time.Now()
	tk.debut = out.debut
	tk.inFlight = true
	tk.alone = h.sent.Add(1) == 1
	*out = tk
	var wait time.Duration
	if w.blocked {
		wait = tk.sentAt.Sub(w.start)
	}
	t.stats.admit(wait)
	h.pace.sentAt(tk.sentAt)
	if w.blocked {
		reason := w.longest()
		t.logDelay(req, h, reason, wait)
		if t.s.onThrottle != nil {
			t.s.onThrottle(Event{Request: req, Host: h.name, Reason: reason, Wait: wait})
		}
	}
	return nil
}

// pass takes the request through the gate, the concurrency cap and the
// pacing once. retry reports that the gate closed while the request waited
// for a slot or its turn: it must go through the gate again.
func (t *Throttle) pass(w *waiter) (tk ticket, retry bool, err error) {
	if tk.probe, err = t.passGate(w); err != nil {
		return tk, false, err
	}
	// From here on, a failure must give back what was taken, and so must a
	// panic (in OnThrottle, the logger, Config.Shared): held says the
	// ticket is neither given back nor handed to the caller yet.
	var res *rate.Reservation
	held := true
	undo := func() {
		held = false
		if res != nil {
			res.Cancel()
		}
		if tk.slot {
			w.h.slots.release()
		}
		if tk.probe {
			w.h.gate.settle(time.Now(), probeAbandoned)
		}
	}
	defer func() {
		if held {
			undo()
		}
	}()
	if w.h.slots != nil {
		if err = t.passSlots(w); err != nil {
			undo()
			return tk, false, err
		}
		tk.slot = true
	}
	now := time.Now()
	tk.pacedAt = now
	wait, r, ok, paused, slack := t.takePace(w, now)
	res = r
	if paused > 0 {
		// The fleet's gate for the host is closed: this process's closes
		// too, and the gate decides again.
		t.fleetPause(w, now, paused)
		undo()
		return ticket{}, true, nil
	}
	if !ok {
		undo()
		return tk, false, t.reject(w, Pace, now.Add(wait))
	}
	if wait > 0 {
		tk.limited = true
		paused, err := t.sleepPace(w, tk.probe, now.Add(wait))
		if err != nil || paused {
			undo()
			if paused {
				return ticket{}, true, nil
			}
			return tk, false, err
		}
	}
	if !tk.probe && w.h.gate.shut.Load() {
		// A pause arrived as the turn came: the gate decides again. The
		// token stays spent, which errs on the side of sending less.
		undo()
		return ticket{}, true, nil
	}
	if wait > 0 && (missedTurn(now.Add(wait), slack) || t.fallbackVoid(slack)) {
		// Too late for its turn in the fleet's schedule, or a turn of
		// local state now that the store answers again: it asks the
		// fleet's schedule again.
		undo()
		return ticket{}, true, nil
	}
	held = false
	return tk, false, nil
}

// sleepPace waits for w's turn in its host's pace, at turn. A request
// other than the probe stops waiting when a pause closes the host's gate
// meanwhile (paused): the host takes nothing before the pause ends, so its
// turn is void, and it goes back to the gate instead of sleeping through
// the pause and sending into it.
func (t *Throttle) sleepPace(w *waiter, probe bool, turn time.Time) (paused bool, err error) {
	for {
		var wake <-chan struct{}
		if !probe {
			wake = w.h.gate.watchChange()
			if w.h.gate.shut.Load() {
				return true, nil
			}
		}
		if err := w.sleep(Pace, turn, wake); err != nil {
			return false, err
		}
		if !time.Now().Before(turn) {
			return false, nil
		}
	}
}

// passGate waits until the host's gate lets the request through, and
// reports whether it goes as the probe.
func (t *Throttle) passGate(w *waiter) (probe bool, err error) {
	for {
		now := time.Now()
		v := w.h.gate.enter(now, !w.optional, w.waited)
		switch v.state {
		case gateProbe:
			return true, nil
		case gateOpen:
			if !w.waited || v.opened.IsZero() {
				if v.releasing.IsZero() || w.released {
					return false, nil
				}
				// The gate is releasing the requests that waited for it:
				// this one waits for the release window to end and then
				// takes its turn in the pace, behind theirs, instead of
				// taking the tokens they were released to take (a hedge
				// does not wait: the capacity is theirs).
				if w.optional {
					return false, t.reject(w, Gate, v.releasing)
				}
				if v.releasing.After(w.limit) {
					return false, nil
				}
				if err := w.sleep(Gate, v.releasing, v.changed); err != nil {
					return false, err
				}
				continue
			}
			// Released by an opening: go at this request's own instant in
			// the release window, so the waiters do not all go at once.
			if w.jitter < 0 {
				w.jitter = rand.N(t.s.releaseWindow)
			}
			at := v.opened.Add(w.jitter)
			if !now.Before(at) || at.After(w.limit) {
				return false, nil
			}
			if err := w.sleep(Gate, at, nil); err != nil {
				return false, err
			}
			// Its instant has come: the next open gate lets it go.
			w.waited, w.released = false, true
		case gateClosed:
			if v.until.After(w.limit) || w.optional {
				return false, t.reject(w, Gate, v.until)
			}
			reportPause(w.req, v.until) // the request waits out the pause: no hedge of it either
			if err := w.sleep(Gate, v.until, v.changed); err != nil {
				return false, err
			}
			w.waited = true
		case gateProbing:
			// How long the probe takes nobody knows: wait for its answer
			// until the limit, or, when that is the deadline, until the
			// context ends.
			if w.optional || (!w.deadline && !now.Before(w.limit)) {
				return false, t.reject(w, Gate, time.Time{})
			}
			if err := w.sleep(Gate, w.unknownEnd(), v.changed); err != nil {
				return false, err
			}
			w.waited = true
		}
	}
}

// passSlots takes a concurrency slot, waiting for one if allowed.
// acquireSlot waits for a concurrency slot, reporting the wait to the
// stages outside (a wait before sending, as in sleep).
func (w *waiter) acquireSlot() error {
	attempt.WaitBegin(w.ctx)
	defer attempt.WaitEnd(w.ctx)
	return w.h.slots.acquire(w.ctx, w.unknownEnd())
}

func (t *Throttle) passSlots(w *waiter) error {
	if w.h.slots.tryAcquire() {
		return nil
	}
	now := time.Now()
	if !w.deadline && !now.Before(w.limit) {
		return t.reject(w, Concurrency, time.Time{})
	}
	w.blocked = true
	err := w.acquireSlot()
	w.waits[Concurrency] += time.Since(now)
	if err == errSlotTimeout {
		return t.reject(w, Concurrency, time.Time{})
	}
	return err
}

// unknownEnd is when a wait of unknown length must end: at the limit, or
// never (the zero Time) when the limit is the context's deadline, which
// then ends the wait with ctx.Err().
func (w *waiter) unknownEnd() time.Time {
	if w.deadline {
		return time.Time{}
	}
	return w.limit
}

// sleep waits until at (the zero Time: no time limit), or until wake is
// closed, for reason. It returns ctx.Err() at once if the request's
// context ends first.
func (w *waiter) sleep(reason Reason, at time.Time, wake <-chan struct{}) error {
	start := time.Now()
	defer func() { w.waits[reason] += time.Since(start) }()
	var timeout <-chan time.Time
	if !at.IsZero() {
		d := at.Sub(start)
		if d <= 0 {
			select {
			case <-w.ctx.Done():
				return w.ctx.Err()
			default:
				return nil
			}
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	w.blocked = true
	// The request waits here, unsent: an enclosing attempt timeout must
	// not count the wait as the upstream's slowness (attempt.Waiter).
	attempt.WaitBegin(w.ctx)
	defer attempt.WaitEnd(w.ctx)
	select {
	case <-timeout:
		return nil
	case <-wake:
		return nil
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
}

// longest returns the reason the request waited longest for.
func (w *waiter) longest() Reason {
	best := Gate
	for r := Gate; int(r) < len(w.waits); r++ {
		if w.waits[r] > w.waits[best] {
			best = r
		}
	}
	return best
}

// reject builds the rejection of w's request for reason, counts it and
// reports it to OnThrottle.
func (t *Throttle) reject(w *waiter, reason Reason, until time.Time) error {
	err := &Error{Host: w.h.name, Reason: reason, Until: until}
	t.stats.rejected[reason].Add(1)
	t.logRejection(w.req, err)
	if t.s.onThrottle != nil {
		t.s.onThrottle(Event{Request: w.req, Host: w.h.name, Reason: reason,
			Wait: time.Since(w.start), Rejected: true, Err: err})
	}
	return err
}
