package attempt

import "context"

// Waiter is told when an inner stage holds an attempt's request back
// locally, before sending it: a throttle's pace turn, closed gate, debut
// or concurrency slot, a breaker's MaxWait for a probe. A stage that times
// its attempt against the upstream (a retry stage's AttemptTimeout) puts
// one in the attempt's context and stops its clock for the wait, since
// the upstream has not been asked anything yet and cannot be slow.
//
// # Why
//
// In retry(throttle(...)) order a request paced for 800 ms with an
// AttemptTimeout of 500 ms was cut short by the retry stage's timer while
// it waited for its turn, and counted as a transient failure: retried and
// charged to the budget, though the upstream never saw it.
//
// # Contract
//
// Every WaitBegin is followed by exactly one WaitEnd, on the goroutine
// that waits, even if the wait ends with an error or a panic; waits may
// overlap when copies of a request wait at once (a Waiter counts them).
// Neither blocks nor calls back into the reporting stage. A Waiter that
// shadows another (the innermost of nested stages that listen) forwards
// both calls to the one it shadows, so every enclosing stage hears of the
// wait. A Waiter is bound to one attempt: a stage must not keep it beyond
// the RoundTrip call whose context held it.
type Waiter interface {
	WaitBegin()
	WaitEnd()
}

// WaiterKey is the context key under which a [Waiter] is found. It is
// exported so that a stage's own context type can answer it from its Value
// method, saving the context.WithValue node [WithWaiter] allocates.
type WaiterKey struct{}

// WithWaiter returns ctx carrying w, for stages without a context type of
// their own.
func WithWaiter(ctx context.Context, w Waiter) context.Context {
	return context.WithValue(ctx, WaiterKey{}, w)
}

// WaiterFrom returns the innermost [Waiter] in ctx, or nil when no stage
// listens.
func WaiterFrom(ctx context.Context) Waiter {
	w, _ := ctx.Value(WaiterKey{}).(Waiter)
	return w
}

// WaitBegin reports to the stages that enclose ctx's request, if any
// listens, that the request starts waiting locally, before it is sent
// (see [Waiter]). The caller must call [WaitEnd] with the same ctx when the
// wait ends, however it ends (defer it). Neither allocates.
func WaitBegin(ctx context.Context) {
	if w := WaiterFrom(ctx); w != nil {
		w.WaitBegin()
	}
}

// WaitEnd reports that the wait [WaitBegin] reported for ctx has ended.
func WaitEnd(ctx context.Context) {
	if w := WaiterFrom(ctx); w != nil {
		w.WaitEnd()
	}
}
