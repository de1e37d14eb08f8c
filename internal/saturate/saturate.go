// Package saturate does the duration arithmetic the stages need without
// overflowing: a sum or product past what a [time.Duration] holds is the
// largest (or smallest) one, never a wrapped-around value.
//
// A configuration at the extreme ("hedge only on failure" with Delay
// math.MaxInt64, an OpenTimeout of math.MaxInt64 for "until restarted")
// or a header a server got wrong (a reset a billion years out) must mean
// "very long", never "in the past": a wrapped sum opened a breaker until
// the year 1707 and let an evicted key probe after a second (issue 11).
// Every sum, product and float conversion of a duration that a user's
// configuration or an upstream's answer can push to the edge goes through
// here; x/time/rate and cenkalti/backoff saturate their own.
package saturate

import (
	"math"
	"time"
)

// Add returns a + b, clamped to [math.MinInt64, math.MaxInt64].
func Add(a, b time.Duration) time.Duration {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

// Mul returns k × d for k ≥ 0, clamped to [math.MinInt64, math.MaxInt64].
func Mul(k int64, d time.Duration) time.Duration {
	switch {
	case k == 0 || d == 0:
		return 0
	case d > 0 && k > math.MaxInt64/int64(d):
		return math.MaxInt64
	case d < 0 && k > math.MinInt64/int64(d):
		return math.MinInt64
	}
	return time.Duration(k) * d
}

// Seconds returns s seconds as a Duration, clamped to
// [math.MinInt64, math.MaxInt64]; NaN is 0. Converting an out-of-range
// float to an integer is implementation-defined in Go (math.MinInt64 on
// amd64, whatever the sign), so it must never be left to the conversion.
func Seconds(s float64) time.Duration {
	ns := s * float64(time.Second)
	switch {
	case ns != ns:
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}
