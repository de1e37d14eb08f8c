package hedge

import (
	"context"

	"github.com/tailguard/tailguard/internal/attempt"
)

// AttemptFrom returns which attempt of the innermost hedge stage the
// request with context ctx is: 1 for the original, 2 and up for hedges, 0
// when no hedge stage is sending it (including requests a stage passed
// through unhedged). Inner stages and base transports call it with
// req.Context().
func AttemptFrom(ctx context.Context) int {
	if m := attempt.Hedge(ctx); m != nil {
		return m.N
	}
	return 0
}

// IsHedge reports whether the request with context ctx is a hedge (an
// attempt after the original) of the innermost hedge stage.
func IsHedge(ctx context.Context) bool {
	return AttemptFrom(ctx) >= 2
}

// markedCtx is an attempt's context: a cancelable child of the caller's
// context that also answers the hedge mark lookup. It saves the
// context.WithValue node attempt.WithHedge would allocate per request: mark
// is a context built once per attempt number in New, holding only the mark,
// and is asked first, so the innermost hedge stage still wins.
//
// Unknown keys, including the context package's own cancel lookups, go to
// the embedded context, so children of a markedCtx attach to its
// cancellation directly, without a goroutine.
type markedCtx struct {
	context.Context
	mark context.Context
}

func (c *markedCtx) Value(key any) any {
	if v := c.mark.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// markContexts returns, for attempts 1..len(marks), a context carrying only
// that attempt's mark.
func markContexts(marks []attempt.Mark) []context.Context {
	cs := make([]context.Context, len(marks))
	for i := range marks {
		cs[i] = attempt.WithHedge(context.Background(), &marks[i])
	}
	return cs
}
