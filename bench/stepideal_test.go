package bench

import (
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/hedge"
)

// The step lab's ideal: a hedge at the true p95 of the latency in force
// when the request starts, an oracle that knows the step's instant and
// size, as the tail lab's ideal hedges at the distribution's true p95.
// Against it the adaptive delay's cost of not knowing is measured: the
// first second after a step, when its estimate is still the old one.

// d1P95 is the true p95 of drawD1 at scale 1, from 200,000 draws (a
// stream of its own: n = 1000, which no lab request reaches).
func d1P95() time.Duration {
	xs := make([]time.Duration, 200_000)
	for i := range xs {
		xs[i], _ = drawD1(i, 1000, 1)
	}
	return quantile(xs, 0.95)
}

// idealStepArm is the oracle arm for sc: a fixed-delay hedge at d1's p95
// before and after the step, at factor times it during.
func idealStepArm(sc stepScenario) *stepArm {
	p95 := d1P95()
	return &stepArm{name: "ideal: hedge at the true p95", sc: sc, wrap: func(b http.RoundTripper) http.RoundTripper {
		steady := hedge.New(hedge.Config{Delay: p95}).Wrap(b)
		stepped := hedge.New(hedge.Config{Delay: time.Duration(sc.factor * float64(p95))}).Wrap(b)
		start := time.Now() // the bubble's start: runStep wraps before it drives
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			if sc.scale(time.Since(start)) != 1 {
				return stepped.RoundTrip(req)
			}
			return steady.RoundTrip(req)
		})
	}}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// firstSecondBound is how far above the ideal's the adaptive delay's p99
// may be in the first second after each step (issue 13 holds the tail
// lab's d1 p99.9 to 1.1× the ideal's; the same bound here, in the second
// that costs it most).
const firstSecondBound = 1.1

// checkFirstSecond fails unless a's p99 over the requests started in the
// first second after each step is within firstSecondBound of ideal's.
func checkFirstSecond(t *testing.T, a, ideal *stepArm) {
	t.Helper()
	for k, what := range []string{"the step up", "the step down"} {
		s := int(time.Duration(k+1) * a.sc.phase / time.Second)
		got, want := a.seconds[s].p99, ideal.seconds[s].p99
		if float64(got) > firstSecondBound*float64(want) {
			t.Errorf("%s, ×%g at %g/s: p99 %v in the first second after %s, %.2f× the ideal's %v (want ≤ %g×)",
				a.name, a.sc.factor, a.sc.rate, got, what, float64(got)/float64(want), want, firstSecondBound)
		}
	}
}
