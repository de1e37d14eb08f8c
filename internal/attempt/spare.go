package attempt

import "context"

// Spare reports whether ctx's request is a spare copy: a hedge (an attempt
// after the first of an enclosing hedge stage) sent while another attempt
// of the same request is still live. A stage that guards an upstream's
// capacity (the throttle) sends a spare copy only when there is capacity
// now, and never makes it wait, since the live attempt does the waiting.
//
// A hedge that stands in for a failed attempt is no spare copy: the race
// re-sends a try that failed as its next hedge at once, and the inner
// retry stage then gives its own attempt up (see [Resender]), so that
// hedge, and every retry inside it, is the request's only live attempt,
// its retry in all but name. Refusing it, or its retry after a pause it
// waited out, would fail a request that a plain retry stage completes.
//
// The answer comes from the enclosing race when its [Feedback] implements
// [Sparer], at the moment of the call; otherwise (no race listens, or one
// that cannot tell) a hedge mark's number decides: attempts after the
// first are spare.
func Spare(ctx context.Context) bool {
	m := Hedge(ctx)
	if m == nil || m.N < 2 {
		return false
	}
	if sp, ok := FeedbackFrom(ctx).(Sparer); ok {
		return sp.Spare()
	}
	return true
}

// Sparer is a [Feedback] whose race can tell whether its attempt is a
// spare copy; see [Spare]. Spare is called on the attempt's own goroutine,
// may be called any number of times, never blocks on the network and never
// calls back into the caller.
type Sparer interface {
	Feedback
	Spare() bool
}
