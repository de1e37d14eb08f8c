package hedge

import (
	"context"

	"github.com/tailguard/tailguard/internal/attempt"
)

// CopyFrom returns which copy of the request with context ctx the
// innermost hedge stage is sending: 1 for the original, 2 for the first
// hedge, n+1 for the n-th hedge, and 0 when no hedge stage is sending it
// (including a request a stage passed through unhedged). In a
// [Middleware]'s handler it is the run: 1 for the first, k+1 for the run
// hedge k started. Inner stages, base transports and handlers call it with
// req.Context(); it allocates nothing.
//
// Copies run side by side and race; the first to win answers the caller.
// They are not attempts in sequence: that is retry.AttemptFrom, which
// counts a retry stage's tries one after another, each sent once the
// previous failed. Under hedge(retry(...)) a request has both numbers, and
// decision.AttemptOf reports them together (as Attempt.Hedge and
// Attempt.Retry). The decision log's attempt attribute for a hedge
// stage's events is this number.
func CopyFrom(ctx context.Context) int {
	if m := attempt.Hedge(ctx); m != nil {
		return m.N
	}
	return 0
}

// IsHedge reports whether the request with context ctx is a hedge (a copy
// after the original, CopyFrom(ctx) >= 2) of the innermost hedge stage.
func IsHedge(ctx context.Context) bool {
	return CopyFrom(ctx) >= 2
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
