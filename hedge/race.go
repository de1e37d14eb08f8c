package hedge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// race is one hedgeable request: its original attempt, its hedges, and the
// decision between them. Every attempt reports its result through report,
// from whichever goroutine ran it; the decision is made under mu by the
// report (or timer, or caller cancellation) that settles it, and everything
// that calls out — transports, hooks, draining bodies, canceling contexts —
// happens after mu is released, from an effects record.
type race struct {
	t      *transport
	parent context.Context // the caller's context
	caller *http.Request   // the caller's request, for hooks
	req    *http.Request   // the request attempts are cloned from; its body is replayable
	start  time.Time
	unit   time.Duration // this request's delay unit (see schedule.at)
	est    *estimator    // the host's estimator; nil unless adaptive

	ctx1 markedCtx        // the original attempt's context
	body httpx.CancelBody // the winning body's wrapper when the original wins

	mu sync.Mutex
	// Guarded by mu.
	timer    *hedgeTimer // armed for hedge next; nil once stopped
	next     int         // the next hedge (1-based) the schedule may fire
	sent     int         // attempts sent, the original included
	pending  uint16      // bit n-1 is set while attempt n is in flight
	cancels  [maxHedgesLimit + 1]context.CancelFunc
	resp     *http.Response // latest failed response, kept open in case it is returned
	respN    int            // which attempt resp came from
	err      error          // latest failed transport error
	rejected error          // latest rejection by an inner stage
	decided  bool
	done     chan struct{} // made when the first hedge fires; closed when decided
	out      *http.Response
	outErr   error
}

// effects is what a locked step decided to do once the lock is released.
type effects struct {
	cancels       [maxHedgesLimit + 1]context.CancelFunc
	ncancels      int
	discard       [2]*http.Response // responses to drain and close
	discardCancel [2]context.CancelFunc
	stop          *hedgeTimer
	record        time.Duration // original's latency to record; 0 for none
	denied        bool
	launch        int // hedge attempt to start, 0 for none
	launchCtx     context.Context
	reason        Reason
	elapsed       time.Duration
	firstHedge    bool
	complete      bool
	info          CompleteInfo
	done          chan struct{} // to close once OnComplete has returned
}

func (fx *effects) cancel(c context.CancelFunc) {
	if c != nil {
		fx.cancels[fx.ncancels] = c
		fx.ncancels++
	}
}

func (fx *effects) drop(resp *http.Response, c context.CancelFunc) {
	i := 0
	if fx.discard[0] != nil {
		i = 1
	}
	fx.discard[i], fx.discardCancel[i] = resp, c
}

// wins reports whether an outcome ends the race in its favour.
func wins(k idempotency.Kind) bool {
	return k == idempotency.Success || k == idempotency.Final
}

// stopHedgingLocked sends no more hedges for this request; attempts in
// flight go on.
func (r *race) stopHedgingLocked(fx *effects) {
	r.next = r.t.h.cfg.sched.hedges + 1
	if r.timer != nil {
		fx.stop, r.timer = r.timer, nil
	}
}

// pushedBack reports whether resp asks the client to wait before trying
// again: a Retry-After that is valid and not already past.
func pushedBack(resp *http.Response) bool {
	d, ok := idempotency.RetryAfter(resp)
	return ok && d > 0
}

// firesNext reports whether an outcome fires the next hedge at once. A
// rejection does not: nothing was sent, so nothing was learnt about the
// upstream. Nor does a fatal outcome: no copy can fix it.
func firesNext(k idempotency.Kind) bool {
	return k == idempotency.Transient || k == idempotency.Throttled
}

// report records attempt n's result. areq is the request it sent.
func (r *race) report(n int, areq *http.Request, resp *http.Response, err error) {
	now := time.Now()
	if err != nil && resp != nil {
		// A RoundTripper must not return both; if one does, the error
		// decides, and the response must still be closed.
		httpx.Discard(resp)
		resp = nil
	}
	out := r.t.h.cfg.classifier.Classify(areq, resp, err)

	var fx effects
	r.mu.Lock()
	r.pending &^= 1 << (n - 1)
	if n == 1 && err == nil && !r.decided {
		fx.record = max(now.Sub(r.start), 1)
	}
	switch {
	case r.decided:
		fx.drop(resp, r.cancels[n-1])
	case err == nil && wins(out.Kind):
		r.decideLocked(&fx, n, n, resp, nil, now)
	case r.parent.Err() != nil:
		fx.drop(resp, r.cancels[n-1])
		r.decideLocked(&fx, 0, 0, nil, r.parent.Err(), now)
	default:
		r.failLocked(&fx, n, resp, err, out.Kind, now)
	}
	r.mu.Unlock()
	r.apply(&fx)
}

// failLocked keeps a failed attempt as a candidate result, fires the next
// hedge if the failure calls for it, and settles the race when nothing is
// left in flight.
func (r *race) failLocked(fx *effects, n int, resp *http.Response, err error, k idempotency.Kind, now time.Time) {
	switch {
	case resp != nil:
		if r.resp != nil {
			fx.drop(r.resp, r.cancels[r.respN-1])
		}
		r.resp, r.respN = resp, n
	case k == idempotency.Rejected:
		r.rejected = err
		fx.cancel(r.cancels[n-1])
	default:
		r.err = err
		fx.cancel(r.cancels[n-1])
	}
	switch {
	case k == idempotency.Throttled && pushedBack(resp):
		// The server asked for a pause (gRPC calls it pushback): a copy
		// now would ignore it, and so would one on a timer. Attempts in
		// flight may still win.
		r.stopHedgingLocked(fx)
	case firesNext(k):
		r.fireLocked(fx, ReasonFailure, now)
	}
	if r.pending != 0 {
		return
	}
	switch {
	case r.resp != nil:
		r.decideLocked(fx, 0, r.respN, r.resp, nil, now)
	case r.err != nil:
		r.decideLocked(fx, 0, 0, nil, r.err, now)
	default:
		r.decideLocked(fx, 0, 0, nil, r.rejected, now)
	}
}

// decideLocked ends the race. winner is the winning attempt (0 if none
// won); from is the attempt whose response is returned (0 for an error).
func (r *race) decideLocked(fx *effects, winner, from int, resp *http.Response, err error, now time.Time) {
	r.decided = true
	if winner > 1 && r.pending&1 != 0 {
		// The original is about to be canceled: count it as at least as
		// slow as it has been so far.
		fx.record = max(now.Sub(r.start), 1)
	}
	kept := 0 // a failed response not returned: canceled after draining, to save its connection
	if r.resp != nil && r.respN != from {
		kept = r.respN
		fx.drop(r.resp, r.cancels[kept-1])
	}
	for i := range r.sent {
		if i+1 != from && i+1 != kept {
			fx.cancel(r.cancels[i]) // losers at once; CancelFuncs are idempotent
		}
	}
	r.resp = nil
	if resp != nil {
		r.keepAlive(resp, r.cancels[from-1])
	}
	r.out, r.outErr = resp, err
	fx.stop, r.timer = r.timer, nil
	fx.done = r.done
	fx.complete = true
	fx.info = CompleteInfo{Request: r.caller, Winner: winner, Sent: r.sent, Duration: now.Sub(r.start), Err: err}
	if resp != nil {
		fx.info.StatusCode = resp.StatusCode
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

// fireLocked sends the next hedge, if one remains and the budget grants it.
func (r *race) fireLocked(fx *effects, reason Reason, now time.Time) {
	s := &r.t.h.cfg.sched
	if r.decided || r.next > s.hedges || r.parent.Err() != nil {
		return
	}
	r.next++
	if !r.t.h.cfg.budget.Withdraw() {
		// Hedging into an exhausted budget would add load exactly when the
		// upstream is short of it; stop hedging this request.
		fx.denied = true
		r.stopHedgingLocked(fx)
		return
	}
	n := r.sent + 1
	r.sent = n
	ctx, cancel := context.WithCancel(attempt.WithHedge(r.parent, &r.t.h.marks[n-1]))
	r.cancels[n-1] = cancel
	r.pending |= 1 << (n - 1)
	if r.done == nil {
		r.done = make(chan struct{})
		fx.firstHedge = true
	}
	fx.launch, fx.launchCtx, fx.reason, fx.elapsed = n, ctx, reason, now.Sub(r.start)
	switch {
	case r.next > s.hedges:
		if r.timer != nil {
			fx.stop, r.timer = r.timer, nil
		}
	case r.timer != nil:
		// Later hedges keep their offsets from the start, even when this
		// one fired early.
		r.timer.t.Reset(max(s.at(r.next, r.unit)-now.Sub(r.start), 0))
	}
}

// onTimer fires the hedge whose delay has elapsed. It runs on the timer's
// goroutine.
func (r *race) onTimer() {
	now := time.Now()
	var fx effects
	r.mu.Lock()
	// A stale callback (its hedge already fired early, and the timer was
	// reset for the next) finds the next hedge's time not yet come.
	if r.timer != nil && !r.decided && r.next <= r.t.h.cfg.sched.hedges &&
		now.Sub(r.start) >= r.t.h.cfg.sched.at(r.next, r.unit) {
		r.fireLocked(&fx, ReasonDelay, now)
	}
	r.mu.Unlock()
	r.apply(&fx)
}

// apply carries out fx with no lock held: first what a waiting caller
// needs (cancellations, hooks, the decision's signal), then the cleanup
// that may take a while (draining discarded bodies).
func (r *race) apply(fx *effects) {
	h := r.t.h
	for _, c := range fx.cancels[:fx.ncancels] {
		c()
	}
	if fx.denied {
		h.stats.budgetDenied.Add(1)
	}
	if fx.launch > 0 {
		if fx.firstHedge {
			h.stats.hedged.Add(1)
		}
		h.stats.hedges.Add(1)
		if h.cfg.onHedge != nil {
			h.cfg.onHedge(HedgeInfo{Request: r.caller, Attempt: fx.launch, Elapsed: fx.elapsed, Reason: fx.reason})
		}
		go r.run(fx.launch, fx.launchCtx)
	}
	if fx.complete {
		switch c := &fx.info; {
		case c.Winner == 1:
			h.stats.originalWins.Add(1)
		case c.Winner > 1:
			h.stats.hedgeWins.Add(1)
		default:
			h.stats.failed.Add(1)
		}
		if h.cfg.onComplete != nil {
			h.cfg.onComplete(fx.info)
		}
		if fx.done != nil {
			close(fx.done)
		}
	}
	if fx.stop != nil {
		h.timers.release(fx.stop)
	}
	if fx.record > 0 && r.est != nil {
		r.est.record(fx.record, r.start.Add(fx.record))
	}
	for i, resp := range fx.discard {
		httpx.Discard(resp) // drained before canceling, so keep-alive survives
		if c := fx.discardCancel[i]; c != nil {
			c()
		}
	}
}

// run sends hedge n on its own goroutine.
func (r *race) run(n int, ctx context.Context) {
	if err := ctx.Err(); err != nil {
		r.report(n, r.req.WithContext(ctx), nil, err) // the race ended before the hedge started
		return
	}
	areq, err := httpx.Attempt(ctx, r.req, n)
	if err != nil {
		r.report(n, r.req.WithContext(ctx), nil, fmt.Errorf("hedge: %w", err))
		return
	}
	resp, err := r.t.next.RoundTrip(areq)
	r.report(n, areq, resp, err)
}

// wait returns the race's result once it is decided and OnComplete has
// returned, or the caller's context error if that context ends first.
func (r *race) wait() (*http.Response, error) {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done != nil {
		// A hedge was sent, so the decision may be another goroutine's:
		// done is closed once it is fully announced.
		select {
		case <-done:
		case <-r.parent.Done():
			var fx effects
			r.mu.Lock()
			if !r.decided {
				r.decideLocked(&fx, 0, 0, nil, r.parent.Err(), time.Now())
			}
			r.mu.Unlock()
			r.apply(&fx)
			<-done
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out, r.outErr
}
