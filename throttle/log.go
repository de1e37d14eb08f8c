package throttle

import (
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
)

// The throttle's decisions, as [decision] events: a request delayed, a
// request refused, and a host paused by a response. They are recorded
// through Config.Logger and the observer in the request's context, and
// built only once one of them takes them, so a silent throttle allocates
// nothing for them.

// vocabulary maps r to the decision vocabulary's reason: the same words
// ("gate", "pace", "adaptive", "concurrency"), so a new Reason needs no
// table here, and cannot overrun one.
func (r Reason) vocabulary() decision.Reason { return decision.Reason(r.String()) }

// logDelay records that req waited wait, longest for reason, before it
// was admitted.
func (t *Throttle) logDelay(req *http.Request, h *host, reason Reason, wait time.Duration) {
	ctx := req.Context()
	if decision.Enabled(ctx, t.s.logger, decision.Throttled) {
		decision.Emit(ctx, t.s.logger, decision.Event{Stage: decision.StageThrottle, Name: decision.Throttled,
			Host: h.name, Request: req, Reason: reason.vocabulary(), Wait: wait})
	}
}

// logRejection records err, the refusal of req. Its wait is how long
// until the request could have gone, 0 when nobody can know.
func (t *Throttle) logRejection(req *http.Request, err *Error) {
	ctx := req.Context()
	if !decision.Enabled(ctx, t.s.logger, decision.Rejected) {
		return
	}
	e := decision.Event{Stage: decision.StageThrottle, Name: decision.Rejected,
		Host: err.Host, Request: req, Reason: err.Reason.vocabulary(), Err: err}
	if !err.Until.IsZero() {
		e.Wait = max(0, time.Until(err.Until))
	}
	decision.Emit(ctx, t.s.logger, e)
}

// logPause records that resp, the answer to req, closed h's gate for
// pause.
func (t *Throttle) logPause(req *http.Request, h *host, resp *http.Response, pause time.Duration) {
	ctx := req.Context()
	if decision.Enabled(ctx, t.s.logger, decision.Paused) {
		decision.Emit(ctx, t.s.logger, decision.Event{Stage: decision.StageThrottle, Name: decision.Paused,
			Host: h.name, Request: req, Reason: decision.ReasonPushback, Wait: pause, Status: resp.StatusCode})
	}
}
