package idempotency

import (
	"errors"
	"time"
)

// Rejection is implemented by errors of a stage that refused an attempt
// without sending it, such as an open circuit breaker or an exhausted
// budget. Outer stages recognise it with [AsRejection] without importing
// the rejecting stage. The rejecting stage has already applied its own
// waiting policy, so tailguard's retry stage returns a rejection at once
// rather than wait RetryAfter again (an open breaker must not park its
// callers); a caller may still use RetryAfter to schedule its own retry (the
// request was never sent, so even a POST is safe), and a breaker does not
// count it against the upstream.
type Rejection interface {
	error
	// Rejected reports true when the attempt was refused locally and
	// nothing was sent. An error type may return false to opt out.
	Rejected() bool
	// RetryAfter is how long until the rejecting stage may accept again;
	// 0 if unknown.
	RetryAfter() time.Duration
}

// AsRejection finds the first error in err's tree that implements
// [Rejection] (as [errors.As] does) and returns it if its Rejected method
// reports true.
func AsRejection(err error) (Rejection, bool) {
	var r Rejection
	if errors.As(err, &r) && r.Rejected() {
		return r, true
	}
	return nil, false
}
