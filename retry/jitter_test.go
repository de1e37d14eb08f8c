package retry

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

const ms = time.Millisecond

func TestNoJitterIsTheEnvelope(t *testing.T) {
	b := NoJitter(100*ms, time.Second)
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}
	for i, w := range want {
		assert.Equal(t, w, b.NextBackOff(), "draw %d", i)
	}
	b.Reset()
	assert.Equal(t, 100*ms, b.NextBackOff(), "Reset restarts the envelope")
}

// draws returns n draws of retry k (0-based) of fresh policies from j.
func draws(j Jitter, k, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		b := j(100*ms, time.Second)
		for range k {
			b.NextBackOff()
		}
		out[i] = b.NextBackOff()
	}
	return out
}

// stats returns the minimum, maximum and mean of ds.
func describe(ds []time.Duration) (lo, hi, mean time.Duration) {
	lo, hi = time.Duration(math.MaxInt64), 0
	var sum float64
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
		sum += float64(d)
	}
	return lo, hi, time.Duration(sum / float64(len(ds)))
}

// Bounds must hold for every draw; the distribution must fill its range
// (a jitter stuck at one end, or at the envelope, fails) and have the mean
// of a uniform draw. With 4,000 draws the mean's standard error is under
// 0.5% of the envelope, so 3% tolerances do not flake.
func TestJitterDistributions(t *testing.T) {
	const n = 4000
	for _, k := range []int{0, 2, 5} { // envelopes 100 ms, 400 ms, 1 s (capped)
		env := min(100*ms<<k, time.Second)
		t.Run("full", func(t *testing.T) {
			lo, hi, mean := describe(draws(FullJitter, k, n))
			assert.GreaterOrEqual(t, lo, time.Duration(0))
			assert.LessOrEqual(t, hi, env)
			assert.Less(t, lo, env/20, "reaches near 0")
			assert.Greater(t, hi, env*19/20, "reaches near the envelope")
			assert.InDelta(t, float64(env/2), float64(mean), float64(env)*0.03)
		})
		t.Run("equal", func(t *testing.T) {
			lo, hi, mean := describe(draws(EqualJitter, k, n))
			assert.GreaterOrEqual(t, lo, env/2)
			assert.LessOrEqual(t, hi, env)
			assert.Less(t, lo, env/2+env/40)
			assert.Greater(t, hi, env*39/40)
			assert.InDelta(t, float64(env*3/4), float64(mean), float64(env)*0.03)
		})
	}
}

func TestDecorrelatedJitter(t *testing.T) {
	const n = 4000
	// First draw: U(base, 3·base).
	lo, hi, mean := describe(draws(DecorrelatedJitter, 0, n))
	assert.GreaterOrEqual(t, lo, 100*ms)
	assert.LessOrEqual(t, hi, 300*ms)
	assert.Less(t, lo, 110*ms)
	assert.Greater(t, hi, 290*ms)
	assert.InDelta(t, float64(200*ms), float64(mean), float64(300*ms)*0.03)

	// Later draws: U(base, 3·prev) capped at max.
	for range 200 {
		b := DecorrelatedJitter(100*ms, time.Second)
		prev := 100 * ms
		for i := range 12 {
			d := b.NextBackOff()
			assert.GreaterOrEqual(t, d, 100*ms, "draw %d", i)
			assert.LessOrEqual(t, d, min(3*prev, time.Second), "draw %d", i)
			prev = d
		}
		b.Reset()
		assert.LessOrEqual(t, b.NextBackOff(), 300*ms, "Reset restarts from base")
	}
}

// A base equal to max, and huge durations, neither overflow nor panic.
func TestJitterEdges(t *testing.T) {
	big := time.Duration(math.MaxInt64)
	for name, j := range map[string]Jitter{"full": FullJitter, "equal": EqualJitter, "decorrelated": DecorrelatedJitter, "none": NoJitter} {
		b := j(time.Second, time.Second)
		for range 5 {
			d := b.NextBackOff()
			assert.GreaterOrEqual(t, d, time.Duration(0), name)
			assert.LessOrEqual(t, d, time.Second, name)
		}
		b = j(big/2, big)
		for range 5 {
			assert.GreaterOrEqual(t, b.NextBackOff(), time.Duration(0), name)
		}
	}
	assert.Equal(t, 5*ms, uniform(5*ms, 5*ms))
	assert.Equal(t, 5*ms, uniform(5*ms, ms))
	assert.GreaterOrEqual(t, uniform(0, big), time.Duration(0))
}
