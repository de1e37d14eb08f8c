package hedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/httpx"
)

// race is one hedgeable request: its original attempt, its hedges, and the
// decision between them.
//
// # How to read it
//
// Every change of state happens under mu, in a method whose name ends in
// Locked, and calls nothing outside this package: no transport, hook,
// classifier or body. What such a step leaves to do — start a hedge, drain
// a response, stop the timer, settle a decided race — goes into a [step]
// that apply carries out once mu is released.
//
// Attempts report from whichever goroutine ran them (see attempt.go). The
// race is decided exactly once, by the first of: a winning outcome, the
// last attempt in flight failing, the caller's context ending, or a panic.
// From then on the attempts, the outcome and the kept response are frozen,
// and settle computes the losers from them: every attempt except the one
// whose response is returned is canceled at once, except a kept failed
// response that is not returned, which is drained in the background and
// canceled after (so its connection survives). Nothing that can block runs
// before the caller has its answer.
type race struct {
	t      *transport
	parent context.Context // the caller's context
	caller *http.Request   // the caller's request, for hooks
	req    *http.Request   // the request attempts are cloned from; its body is replayable
	start  time.Time
	unit   time.Duration    // this request's delay unit (see schedule.at)
	est    *estimator       // the host's estimator; nil unless adaptive
	rated  bool             // unit is est's own estimate, which the host's hedge rate may overrule
	trace  *httpx.TraceGate // lets the caller's ClientTrace see the original; nil without one
	// reports is set when this stage deposited the request into its
	// budget: it then records its attempts' outcomes there too.
	reports bool

	first attemptCtx       // the original attempt
	body  httpx.CancelBody // the winning body's wrapper when it is not nil or 101

	mu sync.Mutex
	// Guarded by mu.
	hedges   []*attemptCtx // hedges launched, in order: attempt n at index n-2
	timer    *hedgeTimer   // armed for the next hedge; nil once stopped
	sent     int           // attempts handed to the transport, the original included
	inflight int           // attempts launched whose result is not in yet
	resp     *http.Response
	respFrom *attemptCtx   // resp is the latest failed response, kept open in case it is returned
	err      error         // latest transport error
	rejected error         // latest rejection by an inner stage
	done     chan struct{} // made when the first hedge launches; closed once settled
	stopped  bool          // no further hedge may be launched
	decided  bool
	// The decision, written once, when decided is set.
	won      bool        // from's outcome won; otherwise no attempt won
	from     *attemptCtx // whose response is returned; nil when an error is
	out      *http.Response
	outErr   error
	panicVal any           // the panic that decided the race, raised again on the caller's goroutine
	took     time.Duration // from the start to the decision
	// Local waits of its attempts (see hold.go): how many are in progress,
	// since when (from the start), and how long the ended ones held the
	// race.
	holds  int
	heldAt time.Duration
	held   time.Duration
}

// errNoResponse stands for a transport's (nil, nil), which breaks the
// RoundTripper contract: the caller gets an error rather than neither.
var errNoResponse = errors.New("hedge: transport returned neither a response nor an error")

// wins reports whether an outcome ends the race in its favour.
func wins(k idempotency.Kind) bool {
	return k == idempotency.Success || k == idempotency.Final
}

// firesNext reports whether an outcome fires the next hedge at once. A
// rejection does not: nothing was sent, so nothing was learnt about the
// upstream. Nor does a fatal outcome: no copy can fix it. Nor does a
// throttled one (a 429, with or without Retry-After): it is pushback, which
// stops hedging the request (see stopsHedging).
func firesNext(k idempotency.Kind) bool {
	return k == idempotency.Transient
}

// stopsHedging reports whether a failed outcome ends hedging for the
// request: a throttled answer, or any failed response asking for a pause.
// The upstream is refusing load; a copy would only add to it (the SRE
// book's "overloaded; don't retry": pushback must not multiply through
// the layers). Attempts in flight may still win.
func stopsHedging(k idempotency.Kind, resp *http.Response) bool {
	return k == idempotency.Throttled || pushedBack(resp)
}

// pushedBack reports whether resp, a failed response, asks the client to
// wait before trying again (see [idempotency.PauseAsked]). It is false for
// a nil response.
func pushedBack(resp *http.Response) bool {
	if resp == nil {
		return false
	}
	_, ok := idempotency.PauseAsked(resp.Header, time.Now())
	return ok
}

// landLocked records attempt a's result, classified as kind.
func (r *race) landLocked(st *step, a *attemptCtx, resp *http.Response, err error, kind idempotency.Kind, now time.Time) {
	a.landed = true
	r.inflight--
	if a == &r.first && !a.tries && !a.waited && err == nil && wins(kind) && !r.decided {
		// Only an outcome that could win says how long a good answer
		// takes: a fast 503 would pull the delay down.
		st.record, st.ended = max(now.Sub(r.start), 1), now
	}
	switch {
	case r.decided:
		st.dropLocked(a, resp)
	case err == nil && wins(kind):
		r.decideLocked(st, a, true, resp, nil, now)
	default:
		r.failLocked(st, a, resp, err, kind, now)
		r.endIfIdleLocked(st, now)
	}
}

// failLocked keeps a failed attempt's result as a candidate answer and fires
// the next hedge if the failure calls for it.
func (r *race) failLocked(st *step, a *attemptCtx, resp *http.Response, err error, k idempotency.Kind, now time.Time) {
	switch {
	case resp != nil:
		if r.resp != nil {
			st.dropLocked(r.respFrom, r.resp)
		}
		r.resp, r.respFrom = resp, a
	case k == idempotency.Rejected:
		r.rejected = err
	case err == nil: // a transport breaking the RoundTripper contract
		r.err = errNoResponse
	default:
		r.err = err
	}
	switch {
	case stopsHedging(k, resp):
		// The server refused or asked for a pause (gRPC calls it
		// pushback): a copy now would ignore it, and so would one on a
		// timer. Attempts in flight may still win. Any failed response
		// may ask, not only a 429 or 503 (issue 11, bug 9): the retry
		// stage honours Retry-After on every retryable status, and so
		// does this one.
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		r.pushbackLocked(st, a.n, status)
	case firesNext(k) && !a.resent:
		r.fireLocked(st, ReasonFailure, now)
	case k == idempotency.Rejected && r.failoverLocked(now):
		// Refused for its replica: the next hedge goes to another one,
		// which the refusing stage does not govern.
		r.fireLocked(st, ReasonFailure, now)
	}
}

// endIfIdleLocked decides the race if nothing can win any more: the
// caller's context ended, or no attempt is in flight (rather than wait for
// a timer to send a hedge that would likely fail the same way).
func (r *race) endIfIdleLocked(st *step, now time.Time) {
	switch {
	case r.decided:
	case r.parent.Err() != nil:
		r.decideLocked(st, nil, false, nil, r.parent.Err(), now)
	case r.inflight > 0:
	case r.resp != nil: // the most useful failure: a response, with its body
		r.decideLocked(st, r.respFrom, false, r.resp, nil, now)
	case r.err != nil:
		r.decideLocked(st, nil, false, nil, r.err, now)
	default: // the original always lands with one of the three
		r.decideLocked(st, nil, false, nil, r.rejected, now)
	}
}

// decideLocked ends the race, returning resp (from attempt from) or err;
// won says whether from won, rather than being the best of the failures.
func (r *race) decideLocked(st *step, from *attemptCtx, won bool, resp *http.Response, err error, now time.Time) {
	r.decided = true
	r.from, r.won, r.out, r.outErr = from, won, resp, err
	r.took = now.Sub(r.start)
	if won && from != &r.first && !r.first.landed {
		st.record, st.ended = r.censoredLocked(now), now
	}
	if resp != nil {
		r.keepAlive(resp, from.cancel)
	}
	if r.timer != nil {
		st.stop, r.timer = r.timer, nil
	}
	st.settle = true
}

// settle carries out a decision, with no lock held: the decision's fields
// are frozen once decided is set, so they are read without mu.
func (r *race) settle() {
	kept := r.respFrom
	if r.resp == nil || kept == r.from {
		kept = nil
	}
	r.first.cancelUnless(r.from, kept)
	for _, a := range r.hedges {
		a.cancelUnless(r.from, kept)
	}
	if kept != nil {
		httpx.Discard(r.resp, kept.cancel) // canceled after the drain, to save the connection
	}
	if r.from != &r.first {
		r.trace.Close() // the original lost: its late events are not the caller's
	}
	if r.done != nil {
		close(r.done)
	}
}

// keepAlive makes cancel run when the caller closes resp's body. The
// wrapper lives in the race record (a race has one winner), saving the
// allocation httpx.CancelOnClose would make; a nil body or a 101 Switching
// Protocols read-write body is left to CancelOnClose.
func (r *race) keepAlive(resp *http.Response, cancel context.CancelFunc) {
	if _, rwc := resp.Body.(io.ReadWriteCloser); resp.Body == nil || rwc {
		httpx.CancelOnClose(resp, cancel)
		return
	}
	r.body = httpx.CancelBody{ReadCloser: resp.Body, Cancel: cancel}
	resp.Body = &r.body
}

// pushbackLocked stops hedging because attempt n was asked for a pause
// (status is its response's, 0 for an inner stage's report), and has the
// decision recorded if hedges were still to go.
func (r *race) pushbackLocked(st *step, n, status int) {
	if !r.stopped && len(r.hedges) < r.t.h.cfg.sched.hedges {
		st.pushedBy, st.pushStatus = n, status
	}
	r.stopHedgingLocked(st)
}

// stopHedgingLocked launches no more hedges; attempts in flight go on.
func (r *race) stopHedgingLocked(st *step) {
	r.stopped = true
	if r.timer != nil {
		st.stop, r.timer = r.timer, nil
	}
}

// fireLocked launches the next hedge, if one remains. The hedge's own
// goroutine builds it and asks the budget (see run): until then it counts
// as in flight, so the race is not decided under it.
func (r *race) fireLocked(st *step, reason Reason, now time.Time) {
	s := &r.t.h.cfg.sched
	k := len(r.hedges) + 1 // the hedge to launch; attempt k+1
	if r.decided || r.stopped || k > s.hedges || r.parent.Err() != nil {
		return
	}
	if r.hedges == nil {
		r.hedges = make([]*attemptCtx, 0, s.hedges)
	}
	a := &attemptCtx{r: r, n: k + 1, mark: &r.t.h.marks[k]}
	r.hedges = append(r.hedges, a)
	r.inflight++
	if r.done == nil {
		r.done = make(chan struct{})
	}
	st.launch, st.reason, st.elapsed = a, reason, now.Sub(r.start)
	switch {
	case k == s.hedges:
		if r.timer != nil {
			st.stop, r.timer = r.timer, nil
		}
	case r.timer != nil:
		// Later hedges keep their offsets from the start, even when this
		// one fired early.
		r.armLocked(k+1, now)
	}
}

// armLocked sets the timer for hedge k: its offset from the start, less
// the time the race has run (waits excluded), at once if that has passed.
// r.mu must be held and r.timer set.
func (r *race) armLocked(k int, now time.Time) {
	r.timer.t.Reset(max(r.t.h.cfg.sched.at(k, r.unit)-r.runLocked(now), 0))
}

// onTimer fires the hedge whose delay has elapsed. It runs on the timer's
// goroutine and calls out to nothing: the hedge starts on its own.
func (r *race) onTimer() {
	now := time.Now()
	var st step
	r.mu.Lock()
	// A stale callback (its hedge already fired early, and the timer was
	// reset for the next) finds the next hedge's time not yet come; one
	// that fires while an attempt is held back locally sends nothing
	// (WaitEnd arms the timer again).
	if k := len(r.hedges) + 1; r.timer != nil && k <= r.t.h.cfg.sched.hedges && r.holds == 0 &&
		r.runLocked(now) >= r.t.h.cfg.sched.at(k, r.unit) {
		if r.deferLocked(now) {
			r.t.h.stats.deferred.Add(1)
		} else {
			r.fireLocked(&st, ReasonDelay, now)
		}
	}
	r.mu.Unlock()
	r.apply(&st)
}

// deferLocked puts off a delay hedge that would take the host's hedge
// rate past its limit (see rateFactor), and reports whether it did: the
// timer is armed again for twice the time elapsed, when the hedge is asked
// for again. Only an estimated delay is checked (see adaptiveBase): fixed
// and scheduled delays, the warm-up delay and MaxDelay are the user's to
// choose. A hedge bound for another replica that is calm is not put off
// (see calmElsewhereLocked): the limit keeps a slow host from being sent
// copies of its own slow requests, and this copy goes elsewhere.
func (r *race) deferLocked(now time.Time) bool {
	q := r.t.h.cfg.sched.quantile
	switch {
	case !r.rated || r.est.admitHedge(q, r.start, now):
		return false
	case r.calmElsewhereLocked(q, now):
		r.est.countHedge(r.start, now)
		return false
	}
	r.timer.t.Reset(max(now.Sub(r.start), time.Millisecond))
	return true
}
