package faulttest_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/hedge"
)

// FuzzSLO checks hedge.SLO against an independent oracle: it returns a
// schedule exactly when the input is valid (a positive target; 1 to 10
// fractions, strictly increasing, each in (0, 1]; the resulting delays
// strictly increasing and positive), panics naming the argument
// otherwise, and what it returns is a schedule hedge.New accepts.
// Retry-After parsing and the classifier are fuzzed in package idempotency
// (FuzzParseRetryAfter, FuzzClassify). `go test` runs the seeds below;
// `go test -fuzz=FuzzSLO ./faulttest/` explores further.
func FuzzSLO(f *testing.F) {
	for _, s := range []struct {
		target  time.Duration
		a, b, c float64
		n       uint8
	}{
		{time.Second, 0.95, 0, 0, 1},
		{time.Second, 0.5, 0.75, 0.95, 3},
		{time.Second, 1, 0, 0, 1},
		{time.Second, 0.5, 0.5, 0, 2},
		{time.Second, 0.5, 0.4, 0, 2},
		{time.Second, 0, 0, 0, 1},
		{time.Second, 1.5, 0, 0, 1},
		{time.Second, math.NaN(), 0, 0, 1},
		{time.Second, math.Inf(1), 0, 0, 1},
		{time.Second, 0.5, 0, 0, 0},
		{0, 0.5, 0, 0, 1},
		{-time.Second, 0.5, 0, 0, 1},
		{1, 0.5, 1, 0, 2},   // 1 ns: 0.5 rounds to a zero delay
		{3, 0.4, 0.5, 0, 2}, // both round to 1 ns
		{math.MaxInt64, 0.999999999999, 1, 0, 2},
		{time.Second, 5e-324, 1e-300, 1, 3},
	} {
		f.Add(int64(s.target), s.a, s.b, s.c, s.n)
	}
	f.Fuzz(func(t *testing.T, target int64, a, b, c float64, n uint8) {
		fractions := []float64{a, b, c}[:n%4]
		valid := sloValid(time.Duration(target), fractions)
		var ds []time.Duration
		msg, panicked := panicMessage(func() { ds = hedge.SLO(time.Duration(target), fractions...) })
		switch {
		case panicked && valid:
			t.Fatalf("SLO(%d, %v) panicked on valid input: %s", target, fractions, msg)
		case panicked:
			if !strings.HasPrefix(msg, "hedge: SLO") {
				t.Fatalf("SLO(%d, %v) panic %q does not name the argument", target, fractions, msg)
			}
			return
		case !valid:
			t.Fatalf("SLO(%d, %v) = %v, want a panic", target, fractions, ds)
		}
		if len(ds) != len(fractions) {
			t.Fatalf("SLO(%d, %v) = %v: %d delays", target, fractions, ds, len(ds))
		}
		for i, d := range ds {
			if d <= 0 || d > time.Duration(target) || (i > 0 && d <= ds[i-1]) {
				t.Fatalf("SLO(%d, %v) = %v: not a positive increasing schedule within the target", target, fractions, ds)
			}
			if want := sloDelay(fractions[i], time.Duration(target)); d != want {
				t.Fatalf("SLO(%d, %v)[%d] = %v, want %v", target, fractions, i, d, want)
			}
		}
		if msg, p := panicMessage(func() { hedge.New(hedge.Config{Delays: ds}) }); p {
			t.Fatalf("hedge.New rejects SLO's schedule %v: %s", ds, msg)
		}
	})
}

func sloValid(target time.Duration, fractions []float64) bool {
	if target <= 0 || len(fractions) == 0 || len(fractions) > 10 {
		return false
	}
	var prev time.Duration
	for i, f := range fractions {
		if !(f > 0 && f <= 1) || (i > 0 && f <= fractions[i-1]) {
			return false
		}
		d := sloDelay(f, target)
		if d <= 0 || d <= prev {
			return false
		}
		prev = d
	}
	return true
}

// sloDelay is fraction f of target, rounded to the nearest nanosecond. A
// product that rounds to 2^63 ns or more (f close to 1 of a target close
// to the largest Duration) is the largest Duration: it is at most target,
// which is itself a Duration.
func sloDelay(f float64, target time.Duration) time.Duration {
	x := math.Round(f * float64(target))
	if x >= math.MaxInt64 { // float64(MaxInt64) is 2^63
		return target
	}
	return time.Duration(x)
}
