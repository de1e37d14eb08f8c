package decision

import (
	"context"
	"log/slog"
)

// Observer receives every decision of the stages a request passes
// through, as an [Event]: an instrumentation (metrics, traces) put in the
// request's context with [WithObserver] sees them all without any stage
// being configured for it.
//
// Observe is called on the goroutine that decided (the caller's, a
// hedge's, or one delivering a breaker's state change), never while a
// stage holds a lock, for every event whatever its level. It must be safe
// for concurrent use, must not modify e.Request, and should return
// quickly: it runs on the request's path. ctx is the context of the
// request decided about; a per-key event delivered outside any request (a
// breaker's state change noticed by Breaker.StateOf) gets the context of
// the latest request that carried this observer through the stage.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

type observerKey struct{}

// WithObserver returns ctx carrying o, which every stage below then calls
// with each of its decisions about requests sent under ctx. An inner
// WithObserver replaces an outer one.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// ObserverFrom returns the observer in ctx, or nil. It does not allocate.
func ObserverFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}

// Enabled reports whether an event named n about a request with context
// ctx would be recorded: logger takes n's level, or ctx carries an
// [Observer]. Stages call it before they build an Event, so that a silent
// stage (a nil logger, or one whose level drops n, and no observer) costs a
// level check and a context lookup, and no allocation.
func Enabled(ctx context.Context, logger *slog.Logger, n Name) bool {
	if logger != nil && logger.Enabled(ctx, n.Level()) {
		return true
	}
	return ObserverFrom(ctx) != nil
}

// Emit records e: it logs it through logger (nil: not logged) at
// e.Name's level, if the logger takes that level, then passes it to the
// observer in ctx, if any. Call it after [Enabled] said yes.
func Emit(ctx context.Context, logger *slog.Logger, e Event) {
	e.log(ctx, logger)
	if o := ObserverFrom(ctx); o != nil {
		o.Observe(ctx, e)
	}
}
