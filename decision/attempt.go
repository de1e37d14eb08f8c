package decision

import (
	"context"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
)

// Kind is which kind of attempt a request is.
type Kind string

// The kinds of attempts.
const (
	KindOriginal Kind = "original" // the caller's request, sent the first time
	KindRetry    Kind = "retry"    // sent again by a retry stage after a failure
	KindHedge    Kind = "hedge"    // a backup copy sent by a hedge stage
)

// Attempt says which attempt a request is, as the stages it passed through
// marked it.
type Attempt struct {
	// Kind is KindRetry when the innermost retry stage is past its first
	// attempt, else KindHedge when the innermost hedge stage is, else
	// KindOriginal: a retry of a hedge is a retry, as it is the retry
	// stage's decision that sent it.
	Kind Kind
	// Retry is the innermost retry stage's attempt number, what
	// retry.AttemptFrom returns: 1 for the first, n for the n-th try sent
	// one after another, 0 outside any retry stage.
	Retry int
	// Hedge is the innermost hedge stage's copy number, what
	// hedge.CopyFrom returns: 1 for the original, 2 and up for the hedges
	// racing it, 0 outside any hedge stage (and in a hedge.Middleware's
	// handler, whose runs are no client attempts; CopyFrom reports those).
	Hedge int
}

// Number is the attempt's number as one count: the retry stage's if any,
// else the hedge stage's, else 1.
func (a Attempt) Number() int {
	switch {
	case a.Retry > 0:
		return a.Retry
	case a.Hedge > 0:
		return a.Hedge
	}
	return 1
}

// AttemptOf returns which attempt the request with context ctx is; a base
// transport (or an instrumentation wrapped around it) calls it with
// req.Context(). A hedge.Middleware's run is no client attempt: a request
// its handler sends is an original unless a client stage hedges or
// retries it. It reads what retry.AttemptFrom and hedge.CopyFrom each read
// alone, in one call. It does not allocate.
func AttemptOf(ctx context.Context) Attempt {
	a := Attempt{Kind: KindOriginal}
	if m := attempt.Hedge(ctx); m != nil && !m.Server {
		a.Hedge = m.N
		if m.N >= 2 {
			a.Kind = KindHedge
		}
	}
	if m := attempt.Retry(ctx); m != nil {
		a.Retry = m.N
		if m.N >= 2 {
			a.Kind = KindRetry
		}
	}
	return a
}

// ClassifierOf returns the classifier of the stage that sent the attempt
// with context ctx, which judges its result: the innermost retry stage's
// Config.Classifier if a retry stage sent it, else the innermost hedge
// stage's, else [idempotency.Default] (the rule of [Attempt.Kind]). An
// instrumentation under the stages classifies each attempt with it, so
// that the outcome it reports is the stage's verdict. It does not
// allocate.
func ClassifierOf(ctx context.Context) idempotency.Classifier {
	if m := attempt.Retry(ctx); m != nil && m.Classifier != nil {
		return m.Classifier
	}
	if m := attempt.Hedge(ctx); m != nil && !m.Server && m.Classifier != nil {
		return m.Classifier
	}
	return idempotency.Default
}
