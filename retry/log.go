package retry

import (
	"context"
	"net/http"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
)

// The stage's decisions, as [decision] events: recorded through
// Config.Logger and the observer in the request's context, and built only
// when one of them takes the event, so that a silent stage allocates
// nothing for them.

// logRetry records that attempt n, which ended in res, is retried now,
// after v's wait.
func (r *Retrier) logRetry(ctx context.Context, req *http.Request, n int, res *result, v verdict) {
	if !decision.Enabled(ctx, r.cfg.logger, decision.Retry) {
		return
	}
	reason := decision.ReasonBackoff
	if v.server {
		reason = decision.ReasonRetryAfter
	}
	e := failed(res, decision.Event{Stage: decision.StageRetry, Name: decision.Retry, Request: req,
		Attempt: n, Reason: reason, Wait: v.delay})
	decision.Emit(ctx, r.cfg.logger, e)
}

// logStop records why attempt n, which ended in res, is not retried: a
// give-up when a retry could have helped, a routine "not retried" when the
// outcome is one no retry changes. A success is not a decision.
func (r *Retrier) logStop(ctx context.Context, req *http.Request, n int, res *result, v verdict) {
	name, reason := decision.GaveUp, v.stop.reason()
	if v.stop == stopResent {
		name = decision.NotRetried // handed to the hedge, not given up on
	}
	if v.stop == stopPolicy {
		switch k := res.out.Kind; {
		case k == idempotency.Success:
			return
		case k.Retryable():
			reason = decision.ReasonNotReplayable
		default:
			name, reason = decision.NotRetried, decision.KindReason(k)
		}
	}
	if !decision.Enabled(ctx, r.cfg.logger, name) {
		return
	}
	e := failed(res, decision.Event{Stage: decision.StageRetry, Name: name, Request: req,
		Attempt: n, Reason: reason})
	if v.stop == stopTooLong {
		e.Wait, _ = idempotency.RetryAfter(res.resp) // what the server asked, not the capped wait
	}
	decision.Emit(ctx, r.cfg.logger, e)
}

// reason names a stop in the decision vocabulary; stopPolicy, which
// logStop splits, and a stop added without a name here name none (a
// switch rather than an array indexed by the stop, which a new stop would
// overrun).
func (s stopReason) reason() decision.Reason {
	switch s {
	case stopExhausted:
		return decision.ReasonAttemptsExhausted
	case stopBudget:
		return decision.ReasonBudget
	case stopDeadline:
		return decision.ReasonDeadline
	case stopTooLong:
		return decision.ReasonRetryAfterTooLong
	case stopBody:
		return decision.ReasonBody
	case stopResent:
		return decision.ReasonHedgeResent
	}
	return ""
}

// logOutcome records what the stage returns after n attempts: resp or
// err, whose outcome is kind. Under an enclosing hedge or retry stage it
// records nothing: the request is one attempt of that stage's, which
// records the logical request's outcome (decision's "Outcomes").
func (r *Retrier) logOutcome(ctx context.Context, req *http.Request, n int, kind idempotency.Kind, resp *http.Response, err error) {
	if !decision.Enabled(ctx, r.cfg.logger, decision.Outcome) || attempt.Enclosed(ctx) {
		return
	}
	e := decision.Event{Stage: decision.StageRetry, Name: decision.Outcome, Request: req,
		Attempt: n, Reason: decision.KindReason(kind), Err: err}
	if resp != nil && err == nil {
		e.Status = resp.StatusCode
	}
	decision.Emit(ctx, r.cfg.logger, e)
}

// failed fills in e's status or error from res.
func failed(res *result, e decision.Event) decision.Event {
	if res.resp != nil && res.err == nil {
		e.Status = res.resp.StatusCode
	}
	e.Err = res.err
	return e
}
