package hedge

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// attemptCtx is one attempt of a race, and the context it is sent under: a
// cancelable child of the caller's context that also answers the hedge
// mark lookup ([CopyFrom]) and the feedback lookup of inner stages
// ([attempt.FeedbackFrom]) itself. Answering them here saves the
// context.WithValue nodes that would otherwise cost an allocation each per
// request; the original's attemptCtx lives inside the race record.
//
// Unknown keys, including the context package's own cancel lookups, go to
// the embedded context, so children of an attemptCtx attach to its
// cancellation directly, without a goroutine.
type attemptCtx struct {
	context.Context // nil for a hedge until its goroutine builds it

	r    *race
	n    int           // 1 for the original, 2.. for hedges
	mark *attempt.Mark // what CopyFrom reads

	// cancel is set before the attempt is sent (for a hedge, under r.mu
	// when it commits) and never changes after.
	cancel context.CancelFunc
	landed bool // guarded by r.mu: its result is in, or it was never sent
	// replica is 1 + the index in Replicas.Addrs of the replica it is sent
	// to, 0 when it goes to the request's own URL, which no listed replica
	// matches. Guarded by r.mu for a hedge, whose replica its goroutine
	// chooses (see race.route); set before the race starts for the
	// original.
	replica int16

	// Guarded by r.mu: what an inner stage that sends several tries per
	// attempt (a retry stage) reported (see race.tryReportLocked).
	tries    bool      // such a stage reports this attempt's tries
	tryStart time.Time // when the try in flight was sent; zero between tries
	resent   bool      // a failed try of it was re-sent as a hedge, which its own failure must not fire again
	prepaid  bool      // a hedge whose budget was withdrawn when it was launched (see race.resendLocked)
	// waited says an inner stage reported a pause it waits out (a
	// breaker's MaxWait, a throttle's gate) or a local wait (a throttle's
	// pace turn: see hold.go) during the try in flight, or during the
	// attempt if no tries are reported: its duration includes that wait,
	// not only the upstream's latency, and is no sample of it.
	waited bool
}

// replicaIndex returns the index in Replicas.Addrs of a's replica, or -1.
func (a *attemptCtx) replicaIndex() int { return int(a.replica) - 1 }

// Value answers the hedge mark, the feedback and the waiter lookups, and
// delegates every other key.
func (a *attemptCtx) Value(key any) any {
	switch key.(type) {
	case attempt.HedgeKey:
		return a.mark
	case attempt.FeedbackKey:
		return attempt.Resender(a) // also an attempt.Sparer
	case attempt.WaiterKey:
		return attempt.Waiter(a) // see hold.go
	}
	return a.Context.Value(key)
}

// Report implements [attempt.Feedback] for this attempt: an inner stage
// (retry, throttle, breaker) tells the race that the upstream asked for a
// pause, and the race launches no further hedges. The pause is passed on to
// an enclosing race, if any, which must not hedge into it either.
//
// A report of a try (TryStart set) tells the race how long one try to the
// upstream takes, which is what the adaptive delay must learn: see
// race.tryReportLocked.
func (a *attemptCtx) Report(rep attempt.Report) {
	r := a.r
	if !rep.TryStart.IsZero() {
		a.ReportTry(rep)
	}
	if !rep.PauseUntil.After(time.Now()) {
		return
	}
	var st step
	r.mu.Lock()
	a.waited = true
	if !r.decided {
		r.pushbackLocked(&st, a.n, 0)
	}
	r.mu.Unlock()
	r.apply(&st)
	attempt.Pause(r.parent, rep.PauseUntil)
}

// ReportTry implements [attempt.Resender]: it takes an inner stage's
// report of a try, and reports whether the race re-sent the request because
// the try failed (see race.tryReportLocked).
func (a *attemptCtx) ReportTry(rep attempt.Report) bool {
	r := a.r
	var st step
	r.mu.Lock()
	resent := r.tryReportLocked(&st, a, rep)
	r.mu.Unlock()
	r.apply(&st)
	return resent
}

var _ attempt.Sparer = (*attemptCtx)(nil)

// Spare implements [attempt.Sparer]: a hedge is a spare copy while
// another attempt of its request is live (not landed, and not giving up
// because the race re-sent its failed try), and once the race is decided.
// A hedge that stands in for a failed attempt — fired by that failure, or
// left alone when the others failed — is the request's only chance: an
// inner throttle lets it, and the retries inside it, wait like an
// original instead of refusing them as copies.
func (a *attemptCtx) Spare() bool {
	if a.n < 2 {
		return false
	}
	r := a.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decided {
		return true
	}
	live := func(b *attemptCtx) bool { return b != a && !b.landed && !b.resent }
	if live(&r.first) {
		return true
	}
	for _, h := range r.hedges {
		if live(h) {
			return true
		}
	}
	return false
}

// cancelUnless cancels a unless it is one of keep; a hedge that was never
// sent has nothing to cancel.
func (a *attemptCtx) cancelUnless(keep ...*attemptCtx) {
	for _, k := range keep {
		if a == k {
			return
		}
	}
	if a.cancel != nil {
		a.cancel()
	}
}

// sendOriginal sends the original attempt on the caller's goroutine and
// reports its result. If the transport or the classifier panics, the panic
// decides the race (unless a hedge already won it, in which case it goes
// with the loser's output, as a late hedge's would) and is raised again
// right here, where the stack still shows where it happened.
func (r *race) sendOriginal(areq *http.Request) {
	a := &r.first
	var resp *http.Response
	landed := false
	defer func() {
		if landed {
			return
		}
		p := recover()
		httpx.Discard(resp, nil)
		if r.abort(a, p, debug.Stack()) {
			_, _ = r.finish() // panics with p, after OnComplete
		}
	}()
	var err error
	resp, err = r.t.next.RoundTrip(areq)
	resp, kind := r.classify(areq, resp, err)
	landed = true
	r.land(a, resp, err, kind)
}

// run launches hedge a on its own goroutine: it builds the attempt (GetBody
// runs here, off every lock and off the caller's goroutine), commits it
// against the race and the budget, calls OnHedge, and sends it. A hedge that
// is never sent is neither counted nor charged to the budget (issue 11, bug
// 7). A panic anywhere on the way decides the race, and the caller's
// goroutine raises it again.
func (r *race) run(a *attemptCtx, reason Reason, elapsed time.Duration) {
	parent := r.parent
	if r.trace != nil {
		parent = httpx.HideTrace(parent) // the caller's trace follows the original only
	}
	ctx, cancel := context.WithCancel(parent)
	a.Context = ctx
	var unsent *http.Request // built but not handed to the transport: its body is ours to close
	var resp *http.Response
	landed := false
	defer func() {
		if landed {
			return
		}
		p := recover()
		closeBody(unsent)
		httpx.Discard(resp, cancel)
		r.abort(a, p, debug.Stack())
	}()

	areq, err := httpx.Attempt(a, r.req, a.n)
	unsent = areq
	if err == nil && r.first.replica != 0 {
		err = r.route(a, areq)
	}
	if !r.commit(a, cancel, err) {
		landed = true
		closeBody(unsent)
		cancel()
		return
	}
	var to *replica // a listed replica other than the request's own URL
	if i := a.replicaIndex(); i >= 0 {
		to = &r.t.h.replicas.list[i]
	}
	logHedge(r.parent, r.t.h.cfg.logger, decision.StageHedge, r.caller, to, a.n, reason, elapsed)
	if hook := r.t.h.cfg.onHedge; hook != nil {
		info := HedgeInfo{Request: r.caller, Attempt: a.n, Elapsed: elapsed, Reason: reason}
		if to != nil {
			info.Replica = to.addr
		}
		hook(info)
	}
	unsent = nil
	resp, err = r.t.next.RoundTrip(areq)
	resp, kind := r.classify(areq, resp, err)
	landed = true
	r.land(a, resp, err, kind)
}

// commit decides whether hedge a, just built (buildErr if GetBody failed),
// is sent: not if the race was decided meanwhile, not if the budget
// refuses, and not if it could not be built — each of which also ends
// hedging for the request, since a later hedge would fare the same.
func (r *race) commit(a *attemptCtx, cancel context.CancelFunc, buildErr error) bool {
	h := r.t.h
	var st step
	r.mu.Lock()
	sent := false
	switch {
	case r.decided || r.parent.Err() != nil:
	case buildErr != nil:
		r.stopHedgingLocked(&st)
		st.denied, st.deniedWhy, st.deniedErr = a.n, decision.ReasonBody, buildErr
		if errors.Is(buildErr, errNoReplica) {
			st.deniedWhy = decision.ReasonReplica
		}
	case !a.prepaid && !h.cfg.budget.Withdraw():
		// Hedging into an exhausted budget would add load exactly when
		// the upstream is short of it.
		h.stats.budgetDenied.Add(1)
		r.stopHedgingLocked(&st)
		st.denied, st.deniedWhy = a.n, decision.ReasonBudget
	default:
		sent = true
		a.cancel = cancel
		r.sent++
		if r.sent == 2 {
			h.stats.hedged.Add(1)
		}
		h.stats.hedges.Add(1)
	}
	if !sent {
		a.landed = true
		r.inflight--
		r.endIfIdleLocked(&st, time.Now())
	}
	r.mu.Unlock()
	r.apply(&st)
	return sent
}

// classify returns the attempt's response, if it is to be kept, and its
// outcome. A RoundTripper must not return both a response and an error; if
// one does, the error decides, and the response is discarded.
func (r *race) classify(areq *http.Request, resp *http.Response, err error) (*http.Response, idempotency.Kind) {
	if err != nil && resp != nil {
		httpx.Discard(resp, nil)
		resp = nil
	}
	return resp, r.t.h.cfg.classifier.Classify(areq, resp, err).Kind
}

// land records attempt a's result.
func (r *race) land(a *attemptCtx, resp *http.Response, err error, kind idempotency.Kind) {
	now := time.Now()
	if i := a.replicaIndex(); i >= 0 {
		r.t.h.replicas.learn(i, kind, err, now)
	}
	if r.reports {
		attempt.RecordOutcome(r.t.h.cfg.budget, kind) // the budget's failure gate
	}
	if resp == nil {
		a.cancel() // nothing of it is left to read
	}
	var st step
	r.mu.Lock()
	r.landLocked(&st, a, resp, err, kind, now)
	r.mu.Unlock()
	r.apply(&st)
}

func closeBody(req *http.Request) {
	if req != nil && req.Body != nil {
		_ = req.Body.Close()
	}
}
