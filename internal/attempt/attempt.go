package attempt

import (
	"context"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

// Mark describes one attempt. Marks are immutable and shared by every request
// that is the same attempt of the same stage: see [Marks].
type Mark struct {
	// N is the attempt number, 1 for the first.
	N int
	// Budget is the budget the stage deposited the logical request into; nil
	// if it has none.
	Budget *budget.Budget
	// Classifier is the stage's classifier: what the stage will make of
	// the attempt's result. An instrumentation under the stages reports
	// the attempt's outcome with it, so that its count agrees with the
	// stage's verdict. Nil means idempotency.Default.
	Classifier idempotency.Classifier
	// Server is set on a hedge.Middleware's marks: its runs are
	// executions of a handler for a request the server received, not
	// attempts of a client's request. A client stage the handler calls
	// with the request's context starts a logical request of its own, and
	// so does not count the middleware's mark as an enclosing attempt
	// (see [Enclosed]); hedge.CopyFrom still reports the run.
	Server bool
}

type retryKey struct{}

// HedgeKey is the context key of a hedge stage's [Mark]. It is exported so
// that a stage's own context type can answer it from its Value method (the
// hedge stage's attempt context does), saving the context.WithValue node
// [WithHedge] allocates.
type HedgeKey struct{}

// Marks returns marks for attempts 1..n at indexes 0..n-1: copies of of,
// numbered. Stages build them once in New and put &marks[i] in contexts,
// which costs no allocation per request.
func Marks(n int, of Mark) []Mark {
	ms := make([]Mark, n)
	for i := range ms {
		ms[i] = of
		ms[i].N = i + 1
	}
	return ms
}

// WithRetry returns ctx carrying a retry stage's mark.
func WithRetry(ctx context.Context, m *Mark) context.Context {
	return context.WithValue(ctx, retryKey{}, m)
}

// Retry returns the innermost retry stage's mark in ctx, or nil.
func Retry(ctx context.Context) *Mark {
	m, _ := ctx.Value(retryKey{}).(*Mark)
	return m
}

// WithHedge returns ctx carrying a hedge stage's mark.
func WithHedge(ctx context.Context, m *Mark) context.Context {
	return context.WithValue(ctx, HedgeKey{}, m)
}

// Hedge returns the innermost hedge stage's mark in ctx, or nil.
func Hedge(ctx context.Context) *Mark {
	m, _ := ctx.Value(HedgeKey{}).(*Mark)
	return m
}

// Enclosed reports whether ctx is the context of an attempt sent by a
// client retry or hedge stage: a stage below it then serves one attempt of
// a logical request whose outcome that stage decides and reports, not the
// logical request itself. A hedge.Middleware's runs do not enclose (see
// [Mark.Server]).
func Enclosed(ctx context.Context) bool {
	if Retry(ctx) != nil {
		return true
	}
	m := Hedge(ctx)
	return m != nil && !m.Server
}

// Charged reports whether an enclosing retry or hedge stage already deposited
// the request's logical request into b. A stage deposits only when this is
// false, so a shared budget counts each caller request once.
func Charged(ctx context.Context, b *budget.Budget) bool {
	if m := Retry(ctx); m != nil && m.Budget == b {
		return true
	}
	if m := Hedge(ctx); m != nil && m.Budget == b {
		return true
	}
	return false
}
