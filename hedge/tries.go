package hedge

import (
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/internal/attempt"
)

// What the race learns from an inner stage that sends several tries per
// attempt (a retry stage, in hedge(retry) order), and from an original
// canceled mid-try: the samples of the adaptive delay, and the failed
// tries it re-sends at once as hedges. The inner stage reports through
// the attempt's context (attemptCtx.Report, ReportTry).

// censoredLocked returns what the original, about to be canceled because a
// hedge won, tells the adaptive delay: it is at least as slow as the try
// it has in flight has run so far (its whole attempt, unless an inner
// stage reports tries). That lower bound belongs in the tail, so hedging
// does not hide the slowness it cures, but only if it is past the delay
// already; a try that began just before the cancellation says nothing
// about the tail, and nothing is recorded for it (0).
func (r *race) censoredLocked(now time.Time) time.Duration {
	if r.first.waited {
		return 0 // it was waiting in an inner stage, not for the upstream
	}
	ran := r.took
	if r.first.tries {
		if r.first.tryStart.IsZero() {
			return 0 // canceled between tries, in a backoff wait
		}
		ran = now.Sub(r.first.tryStart)
	}
	if ran < r.unit {
		return 0
	}
	return ran
}

// tryReportLocked takes an inner stage's report of one try of attempt a, and
// reports whether the race re-sent the request because of it. Only the
// original's tries are learnt from, and only those whose outcome could
// win: a hedge's are biased towards the fast (a slow one is canceled when
// the original wins), and a fast 503 would pull the delay down. A try that
// failed is re-sent at once as the next hedge, as the attempt's own
// failure would be (a pause the server asked for was reported first, and
// has stopped hedging): see resendLocked.
func (r *race) tryReportLocked(st *step, a *attemptCtx, rep attempt.Report) bool {
	a.tries = true
	if rep.TryEnd.IsZero() {
		a.tryStart, a.waited = rep.TryStart, false
		return false
	}
	if a.tryStart.Equal(rep.TryStart) {
		a.tryStart = time.Time{}
	}
	switch {
	case r.decided:
	case wins(rep.TryKind):
		if a == &r.first && !a.waited {
			// The try's own end, not r.start + its length: a try after a
			// backoff ended later than that, and the estimator's clock
			// must not run backwards.
			st.record, st.ended = max(rep.TryEnd.Sub(rep.TryStart), 1), rep.TryEnd
		}
	case stopsHedging(rep.TryKind, nil):
		r.pushbackLocked(st, a.n, 0)
	case firesNext(rep.TryKind):
		return r.resendLocked(st, a, rep.TryEnd)
	}
	return false
}

// resendLocked answers a failed try of attempt a with the next hedge, at
// once, and reports whether it launched one. The hedge is the retry of
// that try: the inner stage (a retry stage) gives the attempt up rather
// than retry it after its backoff as well, which would send the request
// twice for one failure. So that the inner stage can rely on it, the
// budget is asked now rather than when the hedge is built (a hedge that
// then fails to build has spent its grant).
func (r *race) resendLocked(st *step, a *attemptCtx, now time.Time) bool {
	h := r.t.h
	if r.stopped || len(r.hedges) >= h.cfg.sched.hedges || r.parent.Err() != nil {
		return false
	}
	if !h.cfg.budget.Withdraw() {
		h.stats.budgetDenied.Add(1)
		r.stopHedgingLocked(st)
		st.denied, st.deniedWhy = len(r.hedges)+2, decision.ReasonBudget
		return false
	}
	r.fireLocked(st, ReasonFailure, now)
	st.launch.prepaid = true
	a.resent = true
	return true
}
