package attempt

import (
	"context"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// StartTry reports to ctx's enclosing race, if any, that an inner stage
// sends one try of the attempt now, and returns the instant to pass to
// [EndTry] (zero when nobody listens, so that EndTry does nothing).
//
// A stage that sends several tries per attempt (a retry stage) reports
// each, so that an enclosing hedge learns the latency of one try to the
// upstream rather than of the whole retried operation, backoff waits
// included; a single-try stage need not, since the race times its attempt
// itself.
func StartTry(ctx context.Context) time.Time {
	fb := FeedbackFrom(ctx)
	if fb == nil {
		return time.Time{}
	}
	now := time.Now()
	fb.Report(Report{TryStart: now})
	return now
}

// EndTry reports that the try StartTry returned start for came back now
// with outcome kind. It reports whether the enclosing race re-sent the
// request at once because of it (see [Resender]): the inner stage must then
// not retry this attempt itself, since the race's copy is its retry. A
// zero start does nothing and reports false.
func EndTry(ctx context.Context, start time.Time, kind idempotency.Kind) (resent bool) {
	if start.IsZero() {
		return false
	}
	fb := FeedbackFrom(ctx)
	if fb == nil {
		return false
	}
	rep := Report{TryStart: start, TryEnd: time.Now(), TryKind: kind}
	if rs, ok := fb.(Resender); ok {
		return rs.ReportTry(rep)
	}
	fb.Report(rep)
	return false
}

// Resender is a [Feedback] whose race may re-send the request at once when
// one try of an attempt fails, as a hedge race does when an attempt fails.
//
// In hedge(retry(...)) order a failed try would otherwise be re-sent
// twice: by the race at once (a hedge) and by the retry stage after its
// backoff, unless the hedge won in between. ReportTry takes the report of
// an ended try (TryEnd set) like Report, and reports whether the race has
// re-sent the request because of it — a hedge already granted by the
// budget — in which case the reporting stage gives the attempt up, leaving
// the retry to the race. It reports false when the race sends nothing (no
// hedge left, the budget refused, a pause stopped hedging, the race is
// decided): the stage then retries as usual.
type Resender interface {
	Feedback
	ReportTry(Report) (resent bool)
}
