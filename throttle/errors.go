package throttle

import (
	"errors"
	"strconv"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// An *Error must satisfy the interface outer stages look for.
var _ idempotency.Rejection = (*Error)(nil)

// ErrThrottled matches, with [errors.Is], every error a [Throttle] returns
// when it refuses a request without sending it. Use [errors.As] with an
// [*Error] to learn why and when the request could go.
//
// Most refusals come back at once, without any network I/O: a caller that
// loops until it succeeds must wait for the error's RetryAfter (or back off
// when it is 0, which means unknown) before trying again. One that retries
// at once spins: against a host that refused most requests, such a loop
// ran 325,000 times in 10 s.
var ErrThrottled = errors.New("throttle: throttled")

// Reason says which part of the throttle delayed or refused a request.
type Reason uint8

const (
	// Gate: the host asked every client to pause (Retry-After, or a
	// rate-limit header with nothing remaining), or the request that
	// probes it after a pause is still in flight; or, for a hedge, the
	// host answered throttled within HedgeHoldoff.
	Gate Reason = iota + 1
	// Pace: the host's token bucket is empty.
	Pace
	// Adaptive: adaptive throttling rejected the request locally, because
	// the host has been refusing a large share of requests.
	Adaptive
	// Concurrency: MaxConcurrent requests to the host are in flight.
	Concurrency
)

var reasonNames = [...]string{Gate: "gate", Pace: "pace", Adaptive: "adaptive", Concurrency: "concurrency"}

// String returns "gate", "pace", "adaptive" or "concurrency", or
// "Reason(n)" for any other value.
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Error is the error of a request the throttle refused: it could not go
// now and could not wait (it is a hedge, or the wait would pass MaxWait or
// the context's deadline). Nothing was sent and the request body was
// closed.
//
// It matches [ErrThrottled] with [errors.Is] and implements
// [idempotency.Rejection], so outer stages recognise a local refusal, and
// when to come back, without importing this package: a retry stage does not
// count it as an attempt that reached the host, a breaker does not count it
// as a failure.
type Error struct {
	// Host is the host's key, such as "https://api.example.com:443".
	Host string
	// Reason is what refused the request.
	Reason Reason
	// Until is the earliest instant the request could have gone, or the
	// zero Time when nobody can know (adaptive throttling, a concurrency
	// slot, a probe in flight).
	Until time.Time
}

// Error describes the refusal, e.g. "throttle: gate closed for
// https://a:443, opens in 4.2s".
func (e *Error) Error() string {
	msg := "throttle: "
	switch e.Reason {
	case Gate:
		msg += "gate closed for " + e.Host
	case Pace:
		msg += "pace exceeded for " + e.Host
	case Adaptive:
		msg += "rejected locally (adaptive throttling) for " + e.Host
	case Concurrency:
		msg += "too many requests in flight to " + e.Host
	default:
		msg += e.Reason.String() + " for " + e.Host
	}
	if !e.Until.IsZero() {
		msg += ", could go in " + e.RetryAfter().Round(time.Millisecond).String()
	}
	return msg
}

// Is reports whether target is [ErrThrottled].
func (e *Error) Is(target error) bool { return target == ErrThrottled }

// Rejected reports true: nothing was sent. It implements
// [idempotency.Rejection].
func (e *Error) Rejected() bool { return true }

// RetryAfter is the time until Until, never negative; 0 when Until is
// unknown, which [idempotency.Rejection] defines as "unknown".
func (e *Error) RetryAfter() time.Duration {
	if e.Until.IsZero() {
		return 0
	}
	return max(time.Until(e.Until), 0)
}
