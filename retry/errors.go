package retry

import (
	"context"
	"strconv"
)

// ErrAttemptTimeout is wrapped by the error of an attempt that ran out of
// [Config.AttemptTimeout] before response headers arrived. It reports
// Timeout() true and matches context.DeadlineExceeded with errors.Is, as
// http.Client's own timeout error does, so code that checks for either
// kind of timeout keeps working.
var ErrAttemptTimeout error = attemptTimeoutError{}

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string   { return "retry: attempt timed out" }
func (attemptTimeoutError) Timeout() bool   { return true }
func (attemptTimeoutError) Temporary() bool { return true }

// Is makes errors.Is(ErrAttemptTimeout, context.DeadlineExceeded) true.
func (attemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Error is returned when the stage stops retrying a request whose last
// attempt failed with an error (not a response): attempts ran out, the
// budget or the context deadline left no room for another. It is also
// returned for any error after more than one attempt, an inner stage's
// rejection included.
//
// It wraps the last attempt's error, so errors.Is and errors.As see through
// it (errors.Is(err, breaker.ErrOpen) still holds). Errors the stage never
// retries, on the first attempt (a fatal error, a request that may not be
// replayed, the caller's own cancellation), are returned as they are.
type Error struct {
	// Attempts is how many attempts were made, the first included.
	Attempts int
	// Err is the last attempt's error.
	Err error
}

func (e *Error) Error() string {
	word := " attempts: "
	if e.Attempts == 1 {
		word = " attempt: "
	}
	return "retry: gave up after " + strconv.Itoa(e.Attempts) + word + e.Err.Error()
}

// Unwrap returns the last attempt's error.
func (e *Error) Unwrap() error { return e.Err }
