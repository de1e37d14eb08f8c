package attempt

import (
	"context"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// Feedback is how an inner stage tells an enclosing stage's race about one
// of its attempts, without the two packages importing each other. A hedge
// stage puts one in the context of every attempt it sends (answering
// [FeedbackKey] from its own attempt context, so it costs no allocation);
// stages below it find it with [FeedbackFrom] and call Report.
//
// # Why
//
// In hedge(retry(...)) the retry stage waits out a 429's Retry-After on
// the attempt's goroutine: the hedge never sees the 429, and its timer
// fires a copy of the request the server just asked to be left alone
// (issue 11, bug 10: 6 requests in 2 s for one caller request). The retry
// stage reports the pause instead, and the race stops hedging. A throttle
// stage and a breaker that parks callers report their pauses the same way.
//
// # Contract
//
// Report may be called from any goroutine, any number of times, including
// after the race was decided (it is then ignored); it never blocks on the
// network and never calls back into the reporting stage. A Feedback is
// bound to one attempt of one request: a stage must not keep it beyond the
// RoundTrip call whose context held it.
//
// # Extending it
//
// Report takes a struct so that a new kind of feedback is a new field, not
// a new method every implementation must grow. To let inner stages report,
// say, each single attempt's latency and outcome (so that the hedge learns
// the latency of one attempt, not of a whole retried operation, in
// hedge(retry(...)) order):
//
//  1. add the fields to [Report], documenting that zero means "not
//     reported" (Latency time.Duration; Kind idempotency.Kind plus a
//     flag saying it is set);
//  2. fill them in the inner stage where the attempt ends (retry/retry.go
//     after each try; the breaker after each admitted attempt);
//  3. read them in the implementation (hedge/attempt.go: the race's
//     attempt context), which knows which attempt of its race the report
//     belongs to.
//
// Existing callers and implementations keep compiling and keep their
// meaning, since they ignore fields they do not know.
type Feedback interface {
	Report(Report)
}

// Report is one piece of feedback about an attempt; see [Feedback].
type Report struct {
	// PauseUntil, if not zero, is the instant before which the upstream
	// asked not to be sent this request again (a Retry-After on a failed
	// response, or a throttle's pause). A race that learns of a pause
	// still ahead sends no further hedges for the request: a copy sent now
	// or on a timer would ignore the server's request, and the reporting
	// stage is already waiting it out. A zero or past instant asks for no
	// pause.
	PauseUntil time.Time

	// TryStart, if not zero, says that an inner stage sent one try of the
	// attempt to the upstream at that instant; a retry stage reports each
	// of its tries (see [StartTry]). The race then knows how long the try
	// now in flight has run, and that the attempt's own duration is not
	// one try's latency.
	TryStart time.Time
	// TryEnd, if not zero, says that the try sent at TryStart came back
	// then, with outcome TryKind (see [EndTry]).
	TryEnd  time.Time
	TryKind idempotency.Kind
}

// FeedbackKey is the context key under which a [Feedback] is found. It is
// exported so that a stage's own context type can answer it from its Value
// method, as the hedge stage's attempt context does, instead of allocating
// a context.WithValue node per attempt.
type FeedbackKey struct{}

// WithFeedback returns ctx carrying fb, for stages without a context type
// of their own.
func WithFeedback(ctx context.Context, fb Feedback) context.Context {
	return context.WithValue(ctx, FeedbackKey{}, fb)
}

// FeedbackFrom returns the innermost enclosing race's Feedback in ctx, or
// nil when no stage that listens encloses the request.
func FeedbackFrom(ctx context.Context) Feedback {
	fb, _ := ctx.Value(FeedbackKey{}).(Feedback)
	return fb
}

// Pause reports to the enclosing race, if any, that the upstream asked
// for no request before until; see [Report.PauseUntil]. A zero until, or
// a ctx without a Feedback, does nothing.
func Pause(ctx context.Context, until time.Time) {
	if until.IsZero() {
		return
	}
	if fb := FeedbackFrom(ctx); fb != nil {
		fb.Report(Report{PauseUntil: until})
	}
}
