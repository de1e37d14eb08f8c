package retry

import (
	"context"

	"github.com/tailguard/tailguard/internal/attempt"
)

// AttemptFrom returns which attempt of the innermost enclosing retry stage
// ctx belongs to: 1 for the first, 2 for the first retry, and so on. It
// returns 0 when ctx does not come from a retry stage, so "not under a
// retry stage" and "first attempt" stay distinguishable.
//
// Attempts come one after another: attempt n+1 is sent only once attempt n
// has failed. A hedge stage's copies, which race side by side, are counted
// by hedge.CopyFrom instead; under hedge(retry(...)) a request has both
// numbers, and decision.AttemptOf reports them together.
//
// Inner stages and transports call it with req.Context(); it allocates
// nothing.
func AttemptFrom(ctx context.Context) int {
	if m := attempt.Retry(ctx); m != nil {
		return m.N
	}
	return 0
}
