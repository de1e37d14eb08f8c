package attempt

import (
	"context"

	"github.com/tailguard/tailguard/budget"
)

// Mark describes one attempt. Marks are immutable and shared by every request
// that is the same attempt of the same stage: see [Marks].
type Mark struct {
	// N is the attempt number, 1 for the first.
	N int
	// Budget is the budget the stage deposited the logical request into; nil
	// if it has none.
	Budget *budget.Budget
}

type retryKey struct{}

// HedgeKey is the context key of a hedge stage's [Mark]. It is exported so
// that a stage's own context type can answer it from its Value method (the
// hedge stage's attempt context does), saving the context.WithValue node
// [WithHedge] allocates.
type HedgeKey struct{}

// Marks returns marks for attempts 1..n at indexes 0..n-1, all naming b.
// Stages build them once in New and put &marks[i] in contexts, which costs no
// allocation per request.
func Marks(n int, b *budget.Budget) []Mark {
	ms := make([]Mark, n)
	for i := range ms {
		ms[i] = Mark{N: i + 1, Budget: b}
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
