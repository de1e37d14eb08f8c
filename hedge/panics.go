package hedge

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/tailguard/tailguard/decision"
)

// Panics in a race. Every call the race makes into code that is not the
// stage's — the transport, the classifier, GetBody, the hooks, Pick, and
// the logger and the observer of the decision log — may panic, on the
// caller's goroutine, a hedge's, or an inner stage's reporting a try or a
// pause. The rule is the same wherever it happens: a panic before the
// caller has its answer decides the race (the timer is stopped, every
// attempt canceled, every response closed) and RoundTrip raises it again
// on the caller's goroutine, with the same value; a panic after that has
// no caller left to receive it, and is counted in Stats.DroppedPanics and
// recorded in the decision log (panic_dropped) instead of vanishing. A
// panic never unwinds a hedge's goroutine, which would crash the process,
// nor an inner stage that reported into the race, which would leave what
// it holds behind.

// panicError describes a panic (or a runtime.Goexit, p nil) that decided
// a race or was dropped after it, with the stack where it was recovered:
// for a hedge's goroutine that stack is the only trace of where it
// happened, since the caller's goroutine raises the value again.
type panicError struct {
	what  string // "attempt 2", or the call-out that panicked
	p     any
	stack []byte
}

func (e *panicError) Error() string {
	if e.p == nil {
		return fmt.Sprintf("hedge: %s's goroutine exited (runtime.Goexit)\n\n%s", e.what, e.stack)
	}
	return fmt.Sprintf("hedge: %s panicked: %v\n\n%s", e.what, e.p, e.stack)
}

// abort records that attempt a ended in a panic with value p (nil for
// runtime.Goexit), recovered with stack. If the race was not decided yet,
// the panic decides it: every attempt is canceled, the timer stopped, and
// the caller's goroutine raises p again; abort then reports true. A panic
// after the decision is dropped (see dropPanic).
func (r *race) abort(a *attemptCtx, p any, stack []byte) bool {
	var st step
	mine := false
	err := &panicError{what: fmt.Sprintf("attempt %d", a.n), p: p, stack: stack}
	r.mu.Lock()
	if !a.landed {
		a.landed = true
		r.inflight--
	}
	if !r.decided {
		mine = true
		r.panicVal = p // nil for runtime.Goexit, which is not raised again
		r.decideLocked(&st, nil, false, nil, err, time.Now())
	}
	r.mu.Unlock()
	r.effects(&st)
	if !mine && p != nil {
		r.dropPanic(a.n, err)
	}
	return mine
}

// logStep records st's decisions through the decision log. A panic there
// (or a runtime.Goexit) is recovered and handled by calloutPanicked; the
// caller carries out the rest of st afterwards.
func (r *race) logStep(st *step) {
	returned := false
	defer func() {
		if !returned {
			r.calloutPanicked(st, recover(), debug.Stack())
		}
	}()
	if st.pushedBy > 0 {
		logStopped(r.parent, r.t.h.cfg.logger, decision.StageHedge, r.caller, st.pushedBy, st.pushStatus)
	}
	if st.denied > 0 {
		logDenied(r.parent, r.t.h.cfg.logger, decision.StageHedge, r.caller, st.denied, st.deniedWhy, st.deniedErr)
	}
	returned = true
}

// calloutPanicked handles a panic with value p (nil for runtime.Goexit) in
// the decision log while recording st. A race not decided yet is decided
// by it, as by an attempt's panic. A race decided by st itself has not
// been announced yet (st still holds its settle): the caller gets the
// panic instead of the answer, which finish discards. Otherwise the caller
// may have its answer already, and the panic is dropped.
func (r *race) calloutPanicked(st *step, p any, stack []byte) {
	n := st.pushedBy
	if n == 0 {
		n = st.denied
	}
	err := &panicError{what: "recording a decision about attempt " + fmt.Sprint(n), p: p, stack: stack}
	late := false
	r.mu.Lock()
	switch {
	case !r.decided:
		r.panicVal = p
		r.decideLocked(st, nil, false, nil, err, time.Now())
	case st.settle && p != nil:
		r.panicVal, r.won, r.outErr = p, false, err
	default:
		late = p != nil
	}
	r.mu.Unlock()
	if late {
		r.dropPanic(n, err)
	}
}

// dropPanic counts and records a panic of attempt n that came after the
// race was decided. Recording it calls the logger and the observer again;
// if they panic once more, that panic is dropped too, uncounted.
func (r *race) dropPanic(n int, err error) {
	r.t.h.stats.droppedPanics.Add(1)
	defer func() { _ = recover() }()
	logDropped(r.parent, r.t.h.cfg.logger, decision.StageHedge, r.caller, n, err)
}
