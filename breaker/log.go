package breaker

import (
	"context"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
)

// The breaker's decisions, as [decision] events: a request refused by an
// open (or busy half-open) key, and each state change with the counts that
// led to it. They are recorded through Config.Logger and the observer in
// the request's context, and built only once one of them takes them.

// logRefusal records that req was refused by its key, e, with err.
func (b *Breaker) logRefusal(req *http.Request, e *entry, err *OpenError) {
	ctx := req.Context()
	if !decision.Enabled(ctx, b.s.logger, decision.Rejected) {
		return
	}
	reason := decision.ReasonOpen
	if err.State == HalfOpen {
		reason = decision.ReasonHalfOpen
	}
	decision.Emit(ctx, b.s.logger, decision.Event{Stage: decision.StageBreaker, Name: decision.Rejected,
		Host: e.name, Request: req, Reason: reason, Wait: err.RetryAfter().Round(time.Millisecond), Err: err})
}

// transitionReasons says why a key moved between two states.
var transitionReasons = map[[2]State]decision.Reason{
	{Closed, Open}:     decision.ReasonFailures,
	{Open, Open}:       decision.ReasonFailures, // a key the fleet opened tripped by its own rules too
	{Open, HalfOpen}:   decision.ReasonOpenTimeout,
	{HalfOpen, Open}:   decision.ReasonProbeFailed,
	{HalfOpen, Closed}: decision.ReasonProbesSucceeded,
}

// deliver hands one recorded transition, and the window's outcomes that
// led to it, to the decision log, then to Config.OnStateChange, then to
// the fleet if it is this process's own. ctx is the context of the
// request that delivers it, or, for a delivery outside any request
// (StateOf, Snapshot), one carrying the observer of the latest request that
// had one.
func (b *Breaker) deliver(ctx context.Context, c StateChange, n note) {
	if decision.Enabled(ctx, b.s.logger, decision.StateChange) {
		reason := transitionReasons[[2]State{c.From, c.To}]
		if n.byFleet {
			reason = decision.ReasonFleet
		}
		decision.Emit(ctx, b.s.logger, decision.Event{Stage: decision.StageBreaker, Name: decision.StateChange,
			Host: c.Key, Reason: reason,
			From: c.From.String(), To: c.To.String(),
			Successes: int(n.led.successes), Failures: int(n.led.failures)})
	}
	if b.s.onStateChange != nil {
		b.s.onStateChange(c)
	}
	if !n.byFleet {
		b.reportFleet(ctx, c)
	}
}

// observerRef holds the observer that deliveries outside a request use.
type observerRef struct{ o decision.Observer }

// watch remembers the observer in ctx, if any, for transitions delivered
// outside any request: they then still reach the instrumentation that
// watches this breaker's requests.
func (b *Breaker) watch(ctx context.Context) {
	o := decision.ObserverFrom(ctx)
	if o == nil {
		return
	}
	if r := b.watcher.Load(); r == nil || !sameObserver(r.o, o) {
		b.watcher.Store(&observerRef{o})
	}
}

// sameObserver reports whether a and b are the same observer, without
// panicking on an observer of a type that cannot be compared.
func sameObserver(a, b decision.Observer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// outside returns the context a delivery outside any request uses.
func (b *Breaker) outside() context.Context {
	if r := b.watcher.Load(); r != nil {
		return decision.WithObserver(context.Background(), r.o)
	}
	return context.Background()
}
