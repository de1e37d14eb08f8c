package retry

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Jitter builds the backoff policy of one request from the configured
// BaseDelay and MaxDelay. [FullJitter], [EqualJitter], [DecorrelatedJitter]
// and [NoJitter] are Jitters; any function with this signature is too.
//
// The policy is used by a single request's goroutine and is never shared,
// so it need not be safe for concurrent use (backoff's ExponentialBackOff
// is not). A Jitter itself is called concurrently and must be safe for
// that. A policy that returns backoff.Stop ends the retries.
type Jitter func(base, max time.Duration) backoff.BackOff

// The jitters below follow the AWS Architecture Blog, "Exponential Backoff
// And Jitter" (Marc Brooker, 2015): full jitter does the least total work
// across competing clients and finishes about as fast as the others, which
// is why it is the default. backoff's own RandomizationFactor (± f around
// the envelope) is neither full nor equal jitter, so the envelope is an
// ExponentialBackOff with RandomizationFactor 0, and the jitter is ours.
//
// Randomness comes from math/rand/v2's top-level functions, which are safe
// for concurrent use and need no seeding.

// FullJitter draws each delay uniformly from [0, envelope], where the
// envelope starts at base and doubles up to max. The default.
func FullJitter(base, max time.Duration) backoff.BackOff {
	return &fullJitter{env: envelope(base, max)}
}

// EqualJitter draws each delay uniformly from [envelope/2, envelope]: it
// never waits less than half the envelope, trading some of full jitter's
// spread for a guaranteed minimum pause.
func EqualJitter(base, max time.Duration) backoff.BackOff {
	return &equalJitter{env: envelope(base, max)}
}

// DecorrelatedJitter draws each delay uniformly from [base, 3 × previous],
// capped at max, starting from previous = base. Its delays grow with the
// previous draw rather than with the attempt number.
func DecorrelatedJitter(base, max time.Duration) backoff.BackOff {
	return &decorrelatedJitter{base: base, max: max, prev: base}
}

// NoJitter returns the envelope itself: base, 2·base, 4·base, … capped at
// max. Synchronized clients retrying in lock-step is the problem jitter
// solves, so use it only for a single client or for tests.
func NoJitter(base, max time.Duration) backoff.BackOff {
	return envelope(base, max)
}

// envelope is the exponential envelope: no randomization, doubling, no
// elapsed-time limit (MaxAttempts and the context deadline bound the
// retries instead).
func envelope(base, max time.Duration) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     base,
		RandomizationFactor: 0,
		Multiplier:          Multiplier,
		MaxInterval:         max,
		MaxElapsedTime:      0,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	return b
}

// uniform returns a duration drawn uniformly from [lo, hi]; lo if hi ≤ lo.
func uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	span := hi - lo
	if span == math.MaxInt64 { // span+1 would overflow
		return lo + rand.N(span)
	}
	return lo + rand.N(span+1)
}

type fullJitter struct{ env *backoff.ExponentialBackOff }

func (j *fullJitter) NextBackOff() time.Duration { return uniform(0, j.env.NextBackOff()) }
func (j *fullJitter) Reset()                     { j.env.Reset() }

type equalJitter struct{ env *backoff.ExponentialBackOff }

func (j *equalJitter) NextBackOff() time.Duration {
	e := j.env.NextBackOff()
	return uniform(e/2, e)
}
func (j *equalJitter) Reset() { j.env.Reset() }

type decorrelatedJitter struct {
	base, max, prev time.Duration
}

func (j *decorrelatedJitter) NextBackOff() time.Duration {
	hi := j.max
	if j.prev <= j.max/3 {
		hi = 3 * j.prev
	}
	j.prev = min(j.max, uniform(j.base, hi))
	return j.prev
}
func (j *decorrelatedJitter) Reset() { j.prev = j.base }
