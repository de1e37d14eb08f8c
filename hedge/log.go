package hedge

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
)

// The stage's decisions, as [decision] events, recorded through
// Config.Logger and the observer in the request's context. Each is built
// only once one of them takes it, so a silent stage allocates nothing for
// them. Client races record with StageHedge, a Middleware with
// StageMiddleware; both use the caller's context.

// vocabulary maps r to the decision vocabulary's reason.
func (r Reason) vocabulary() decision.Reason {
	if r == ReasonFailure {
		return decision.ReasonFailure
	}
	return decision.ReasonDelay
}

// logHedge records that hedge attempt n was sent, elapsed after the
// request started, for reason; to is the replica it was sent to, nil when
// it went to the request's own URL.
func logHedge(ctx context.Context, l *slog.Logger, stage decision.Stage, req *http.Request, to *replica, n int, reason Reason, elapsed time.Duration) {
	if decision.Enabled(ctx, l, decision.Hedge) {
		decision.Emit(ctx, l, decision.Event{Stage: stage, Name: decision.Hedge, Request: req,
			Host: replicaHost(req, to), Attempt: n, Reason: reason.vocabulary(), Wait: elapsed})
	}
}

// replicaHost is the event's host for an attempt sent to replica to: its
// key, or "" (the request's own) when to is nil.
func replicaHost(req *http.Request, to *replica) string {
	if to == nil {
		return ""
	}
	k := to.key
	if k.Scheme == "" { // a host:port replica: the request's scheme
		k.Scheme = req.URL.Scheme
	}
	return k.String()
}

// logDenied records that hedge attempt n was due but not sent, for why
// (budget or body), with the error that kept it from being built.
func logDenied(ctx context.Context, l *slog.Logger, stage decision.Stage, req *http.Request, n int, why decision.Reason, err error) {
	if decision.Enabled(ctx, l, decision.HedgeDenied) {
		decision.Emit(ctx, l, decision.Event{Stage: stage, Name: decision.HedgeDenied, Request: req,
			Attempt: n, Reason: why, Err: err})
	}
}

// logStopped records that attempt n's pushback (a Retry-After, or an
// inner stage's reported pause) stopped hedging with hedges still to go.
func logStopped(ctx context.Context, l *slog.Logger, stage decision.Stage, req *http.Request, n int, status int) {
	if decision.Enabled(ctx, l, decision.HedgingStopped) {
		decision.Emit(ctx, l, decision.Event{Stage: stage, Name: decision.HedgingStopped, Request: req,
			Attempt: n, Reason: decision.ReasonPushback, Status: status})
	}
}

// logDropped records that attempt n panicked with err (a *panicError)
// after the race was decided, and the panic was dropped.
func logDropped(ctx context.Context, l *slog.Logger, stage decision.Stage, req *http.Request, n int, err error) {
	if decision.Enabled(ctx, l, decision.PanicDropped) {
		decision.Emit(ctx, l, decision.Event{Stage: stage, Name: decision.PanicDropped, Request: req,
			Attempt: n, Err: err})
	}
}

// logWon records that hedge attempt info.Winner, sent to replica to (nil:
// the request's own URL), won the race: its answer (info.StatusCode, or
// info.Err) is returned and the others abandoned.
func logWon(ctx context.Context, l *slog.Logger, stage decision.Stage, info *CompleteInfo, to *replica) {
	if decision.Enabled(ctx, l, decision.HedgeWon) {
		decision.Emit(ctx, l, decision.Event{Stage: stage, Name: decision.HedgeWon, Request: info.Request,
			Host: replicaHost(info.Request, to), Attempt: info.Winner, Status: info.StatusCode, Err: info.Err})
	}
}

// logOutcome records a decided race: the winner (0 if none won), and the
// status or error returned, whose outcome is kind.
func logOutcome(ctx context.Context, l *slog.Logger, stage decision.Stage, info *CompleteInfo, kind idempotency.Kind) {
	decision.Emit(ctx, l, decision.Event{Stage: stage, Name: decision.Outcome, Request: info.Request,
		Attempt: info.Winner, Reason: decision.KindReason(kind), Status: info.StatusCode, Err: info.Err})
}
