package breaker

import (
	"errors"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// An *OpenError must satisfy the interface outer stages look for.
var _ idempotency.Rejection = (*OpenError)(nil)

// ErrOpen matches, with [errors.Is], every error a [Breaker] returns when it
// refuses a request without sending it. Use [errors.As] with an
// [*OpenError] to learn the key and when to come back.
var ErrOpen = errors.New("breaker: open")

// OpenError is the error of a request the breaker refused: its key's
// breaker is open, or half-open with every probe slot taken. Nothing was
// sent and the request body was closed.
//
// It matches [ErrOpen] with [errors.Is] and implements
// [idempotency.Rejection], so outer stages (a retry stage, a hedge stage)
// recognise a local refusal without importing this package: tailguard's
// retry stage returns it at once, and its hedge stage never lets it beat
// an attempt in flight. Until and RetryAfter tell a caller when to come
// back; to have requests wait for the probe instead, set Config.MaxWait.
//
// One *OpenError is shared by every request refused during the same open
// period (that is what makes a refusal allocation-free): treat it as
// read-only, and compare errors with errors.Is, not by pointer. It is safe
// for concurrent use.
type OpenError struct {
	// Key is the breaker's key, such as "https://api.example.com:443".
	Key string
	// State is Open, or HalfOpen when the breaker is probing and every
	// probe slot is taken.
	State State
	// Until is when the open period ends and the next probe may be sent.
	// It is the zero Time for a HalfOpen refusal: the probe in flight
	// decides, and nobody can know when it will finish.
	Until time.Time
}

// Error describes the refusal, e.g. "breaker: open for https://a:443, next
// probe in 4.2s".
func (e *OpenError) Error() string {
	if e.State == HalfOpen {
		return "breaker: half-open for " + e.Key + ", probe in flight"
	}
	return "breaker: open for " + e.Key + ", next probe in " + e.RetryAfter().Round(time.Millisecond).String()
}

// Is reports whether target is [ErrOpen].
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// Rejected reports true: nothing was sent. It implements
// [idempotency.Rejection].
func (e *OpenError) Rejected() bool { return true }

// RetryAfter is the time until the open period ends, never negative. For a
// HalfOpen refusal it is 0, which [idempotency.Rejection] defines as
// unknown: nobody can know how long the probe in flight takes.
func (e *OpenError) RetryAfter() time.Duration {
	if e.Until.IsZero() {
		return 0
	}
	return max(time.Until(e.Until), 0)
}
