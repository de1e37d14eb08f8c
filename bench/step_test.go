package bench

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
)

// stepScenario is a latency step and back: d1 traffic at rate requests per
// second for three phases of phase each, every latency × factor in the
// middle one.
type stepScenario struct {
	rate   float64
	factor float64
	phase  time.Duration
}

// scale is the latency multiplier at an instant.
func (sc stepScenario) scale(at time.Duration) float64 {
	if at >= sc.phase && at < 2*sc.phase {
		return sc.factor
	}
	return 1
}

// stormBound is the storm line (issue 13): no second may see more
// than twice the budget ratio it was written against (0.1) of its requests
// hedged.
const stormBound = 0.2

// estimatorStormBound is the line for the adaptive delay alone, with the
// budget out of the way. The stage admits a delay hedge only while the
// requests hedged on their delay stay within twice 1 − Quantile (10% at
// p95) of the requests started, plus one, in every span of half a second
// to a second (see hedge.Hedger, "Adaptive delay"). A second of request
// starts meets nine of its 125-ms buckets, so it may carry a ninth bucket's
// 10% more and two spans' allowance: 10 + 1.25 + 2 = 13.25% at 100 requests
// per second, less above. 15% leaves a request of slack at 100 per second
// and stays well under the 20% the issue calls a storm.
const estimatorStormBound = 0.15

// unlimitedBudget is a budget that never refuses: the ratio at its
// maximum, a floor far above any rate here, and a failure gate of the
// largest size (nothing fails in these scenarios anyway).
func unlimitedBudget() *budget.Budget {
	return budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e9, MaxTokens: budget.MaxTokensLimit})
}

func tailguardStep(b http.RoundTripper) http.RoundTripper { return hedge.New(hedge.Config{}).Wrap(b) }

func tailguardStepUnlimited(b http.RoundTripper) http.RoundTripper {
	return hedge.New(hedge.Config{Budget: unlimitedBudget()}).Wrap(b)
}

func failsafeStep(b http.RoundTripper) http.RoundTripper {
	return failsafehttp.NewRoundTripper(b, hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, 1000, hedge.MinSamples))
}

// stepArm is one client's view of a step scenario.
type stepArm struct {
	name string
	wrap func(http.RoundTripper) http.RoundTripper
	sc   stepScenario

	seconds   []stepSecond
	extra     float64 // extra attempts per request in the steady phase's last 20 s
	unrescued [2]int  // stalled originals left unrescued in the 12 s after each step
	stalls    [2]int  // stalled originals in those 12 s
	delayAt2s [2]time.Duration
	settled   [2]time.Duration // median hedge delay in the last 5 s of the phase each step leads to (for the step down, the first)
	// recovery is, for each step, how long after it the hedge delay was
	// last outside 1.5× of settled (see recovery).
	recovery [2]time.Duration
}

// stepSecond is what the requests started in one second saw.
type stepSecond struct {
	requests, hedged int
	p99              time.Duration
	delay            time.Duration // median delay of the hedges sent, 0 if none
}

// runStep drives arm.sc through arm on the fake clock.
func runStep(t *testing.T, arm *stepArm) {
	sc := arm.sc
	synctest.Test(t, func(t *testing.T) {
		total := 3 * sc.phase
		n := int(total.Seconds()*sc.rate) * 2
		at := poisson(n, sc.rate, 1)
		for at[len(at)-1] >= total {
			at = at[:len(at)-1]
		}
		load := make([]simReq, len(at))
		for i := range at {
			load[i].At = at[i]
		}
		up := newFakeUpstream(len(load), func(c simCall) simAnswer {
			d, _ := drawD1(c.ID, c.N, sc.scale(c.At))
			return simAnswer{Latency: d}
		})
		res := simDrive([]http.RoundTripper{arm.wrap(up)}, up, load)
		synctest.Wait()
		arm.summarize(load, res, up.attempts())
	})
}

func (a *stepArm) summarize(load []simReq, res []simResult, arrivals [][]time.Duration) {
	sc := a.sc
	secs := int(3 * sc.phase / time.Second)
	lat := make([][]time.Duration, secs)
	delays := make([][]time.Duration, secs)
	a.seconds = make([]stepSecond, secs)
	steps := [2]time.Duration{sc.phase, 2 * sc.phase}
	var steadyReq, steadyAtt int
	for i, r := range load {
		s := int(r.At / time.Second)
		a.seconds[s].requests++
		lat[s] = append(lat[s], res[i].Latency)
		if len(arrivals[i]) > 1 {
			a.seconds[s].hedged++
			delays[s] = append(delays[s], arrivals[i][1]-r.At)
		}
		if r.At >= sc.phase-20*time.Second && r.At < sc.phase {
			steadyReq++
			steadyAtt += len(arrivals[i])
		}
		for k, step := range steps {
			if r.At < step || r.At >= step+12*time.Second {
				continue
			}
			if _, stall := drawD1(i, 1, sc.scale(r.At)); stall {
				a.stalls[k]++
				if res[i].Latency >= 900*time.Millisecond { // rescued ones take the hedge delay + ~10 ms × factor
					a.unrescued[k]++
				}
			}
		}
	}
	for s := range a.seconds {
		a.seconds[s].p99 = quantile(lat[s], 0.99)
		a.seconds[s].delay = quantile(delays[s], 0.5)
	}
	a.extra = float64(steadyAtt)/float64(steadyReq) - 1
	phaseSecs := int(sc.phase / time.Second)
	for k, step := range steps {
		first := int(step / time.Second)
		a.delayAt2s[k] = a.seconds[first+2].delay
		// Settled after the step up: the end of the stepped phase; after
		// the step down: the steady state the upstream returned to, the
		// end of the first phase.
		from := first + phaseSecs - 5
		if k == 1 {
			from = phaseSecs - 5
		}
		var tail []time.Duration
		for s := from; s < from+5; s++ {
			tail = append(tail, delays[s]...)
		}
		a.settled[k] = quantile(tail, 0.5)
		a.recovery[k] = recovery(load, arrivals, step, step+sc.phase, a.settled[k])
	}
}

// recovery returns how long after from the last request started before
// to whose hedge delay, as the median over the hedged requests started
// within half a second either side of it, lay outside 1.5× of settled (0
// if none did). The median is over a second of hedges so that one hedge
// put off by the hedge-rate check (fired at twice its delay or more) is
// not taken for the estimate.
func recovery(load []simReq, arrivals [][]time.Duration, from, to, settled time.Duration) time.Duration {
	type hedge struct{ at, delay time.Duration }
	var hs []hedge
	for i, r := range load {
		if r.At >= from-time.Second/2 && r.At < to && len(arrivals[i]) > 1 {
			hs = append(hs, hedge{r.At, arrivals[i][1] - r.At})
		}
	}
	var last time.Duration
	var window []time.Duration
	for _, h := range hs {
		if h.at < from {
			continue
		}
		window = window[:0]
		for _, o := range hs {
			if o.at >= h.at-time.Second/2 && o.at <= h.at+time.Second/2 {
				window = append(window, o.delay)
			}
		}
		if m := float64(quantile(window, 0.5)); m > 1.5*float64(settled) || m < float64(settled)/1.5 {
			last = h.at - from
		}
	}
	return last
}

func (a *stepArm) maxHedgedShare() (share float64, second int) {
	for s, sec := range a.seconds {
		if f := float64(sec.hedged) / float64(sec.requests); f > share {
			share, second = f, s
		}
	}
	return share, second
}

// runSteps runs every arm, prints the table if verbose, and returns the
// arms.
func runSteps(t *testing.T, arms ...*stepArm) []*stepArm {
	for _, a := range arms {
		runStep(t, a)
	}
	if testing.Verbose() {
		writeStepTable(os.Stdout, arms)
	}
	return arms
}

// peersToo returns arms, and failsafe-go's quantile hedge on the same
// scenario when the run is verbose: the comparison is printed, not
// asserted, so CI need not pay for it.
func peersToo(arms ...*stepArm) []*stepArm {
	if !testing.Verbose() {
		return arms
	}
	return append(arms, &stepArm{name: "failsafe-go quantile p95", wrap: failsafeStep, sc: arms[0].sc})
}

// TestFakeClockStep is the evidence that the adaptive hedge follows a
// latency step in both directions without a storm: d1 traffic (99% ≈
// N(10 ms, 1 ms), 1% at 1 s) at 1,000 requests per second, every latency ×3
// from t = 20 s to 40 s. Against failsafe-go's quantile hedge, on the fake
// clock.
//
//	go test -run 'TestFakeClockStep$' -v .
func TestFakeClockStep(t *testing.T) {
	sc := stepScenario{rate: 1000, factor: 3, phase: 20 * time.Second}
	arms := runSteps(t,
		&stepArm{name: "tailguard adaptive p95", wrap: tailguardStep, sc: sc},
		idealStepArm(sc),
		&stepArm{name: "failsafe-go quantile p95", wrap: failsafeStep, sc: sc})
	tg := arms[0]
	checkNoStorm(t, tg, stormBound)
	checkFollows(t, tg)
	checkFirstSecond(t, tg, arms[1])
	for k, what := range []string{"the step up", "the step down"} {
		if tg.unrescued[k] > 10 {
			t.Errorf("%d of %d stalls in the 12 s after %s unrescued, want ≤ 10", tg.unrescued[k], tg.stalls[k], what)
		}
	}
	if tg.extra > 0.03122 {
		t.Errorf("steady state: %.3f%% extra attempts, want ≤ 3.122%% (the estimator before, on the same draws)", 100*tg.extra)
	}
}

// TestFakeClockStepRates is the same step at ordinary rates: the adaptive
// delay must follow it within 2 s at 100 and 200 requests per second too
// (the estimator forgets by time as well as by samples), without a storm.
//
//	go test -run TestFakeClockStepRates -v .   # also failsafe-go, and 50/s
func TestFakeClockStepRates(t *testing.T) {
	rates := []float64{100, 200}
	if testing.Verbose() {
		rates = append([]float64{50}, rates...) // below the claim: documented, not asserted
	}
	for _, rate := range rates {
		sc := stepScenario{rate: rate, factor: 3, phase: 20 * time.Second}
		arms := runSteps(t, peersToo(&stepArm{name: "tailguard adaptive p95", wrap: tailguardStep, sc: sc}, idealStepArm(sc))...)
		if rate < 100 {
			continue
		}
		checkNoStorm(t, arms[0], stormBound)
		checkFollows(t, arms[0])
		checkFirstSecond(t, arms[0], arms[1])
	}
}

// TestFakeClockStepStorm is the storm check for harsher steps, ×3, ×10 and
// ×30, at 100, 200 and 1,000 requests per second: with the default budget,
// no second may see more than the 20% of its requests hedged; with
// the budget out of the way, the adaptive delay alone must keep every
// second within estimatorStormBound. The phases are shorter than in
// TestFakeClockStep: a storm happens at the step up.
//
//	go test -run TestFakeClockStepStorm -v .
func TestFakeClockStepStorm(t *testing.T) {
	type cell struct {
		rate   float64
		factor float64
	}
	cells := []cell{{1000, 3}, {1000, 10}, {1000, 30}, {200, 3}, {200, 10}, {200, 30}, {100, 3}, {100, 10}, {100, 30}}
	for _, c := range cells {
		sc := stepScenario{rate: c.rate, factor: c.factor, phase: 5 * time.Second}
		arms := runSteps(t, peersToo(
			&stepArm{name: "tailguard adaptive p95", wrap: tailguardStep, sc: sc},
			&stepArm{name: "tailguard, budget unlimited", wrap: tailguardStepUnlimited, sc: sc})...)
		checkNoStorm(t, arms[0], stormBound)
		checkNoStorm(t, arms[1], estimatorStormBound)
	}
}

// checkNoStorm fails unless the share of requests hedged stays within
// bound in every second.
func checkNoStorm(t *testing.T, a *stepArm, bound float64) {
	t.Helper()
	if share, sec := a.maxHedgedShare(); share > bound {
		t.Errorf("%s, ×%g at %g/s: storm: %.1f%% of the requests started in second %d were hedged (limit %.0f%%)",
			a.name, a.sc.factor, a.sc.rate, 100*share, sec, 100*bound)
	}
}

// checkFollows fails unless, after each step, every hedge from 2 s on
// fired within 1.5× of the settled delay.
func checkFollows(t *testing.T, a *stepArm) {
	t.Helper()
	for k, what := range []string{"the step up", "the step down"} {
		if a.recovery[k] > 2*time.Second {
			t.Errorf("%s at %g/s: a hedge delay outside 1.5× of the settled %v %v after %s (want ≤ 2 s)",
				a.name, a.sc.rate, a.settled[k], a.recovery[k].Round(time.Millisecond), what)
		}
	}
}

func writeStepTable(w *os.File, arms []*stepArm) {
	var b strings.Builder
	sc := arms[0].sc
	fmt.Fprintf(&b, "\nstep ×%g at %v and back at %v, d1 at %g/s; per second of request starts: hedged share, p99, median hedge delay\n\n", sc.factor, sc.phase, 2*sc.phase, sc.rate)
	fmt.Fprintf(&b, "| s |")
	for _, a := range arms {
		fmt.Fprintf(&b, " %s hedged | p99 | delay |", a.name)
	}
	b.WriteString("\n|---|")
	for range arms {
		b.WriteString("---|---|---|")
	}
	b.WriteString("\n")
	up, down := int(sc.phase/time.Second), int(2*sc.phase/time.Second)
	for s := range arms[0].seconds {
		if s < up-2 || (s > up+4 && s < down-1) || s > down+4 {
			continue
		}
		fmt.Fprintf(&b, "| %d |", s)
		for _, a := range arms {
			sec := a.seconds[s]
			fmt.Fprintf(&b, " %.1f%% | %v | %v |", 100*float64(sec.hedged)/float64(sec.requests), sec.p99.Round(100*time.Microsecond), sec.delay.Round(100*time.Microsecond))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	for _, a := range arms {
		share, sec := a.maxHedgedShare()
		fmt.Fprintf(&b, "%s: steady extra %.4f%%; peak hedged %.1f%% (second %d); unrescued stalls %d/%d after the step up, %d/%d after the step down; delay 2 s after each step %v, %v (settled %v, %v); delay outside 1.5× of settled until %.2f s, %.2f s after each step\n",
			a.name, 100*a.extra, 100*share, sec, a.unrescued[0], a.stalls[0], a.unrescued[1], a.stalls[1],
			r(a.delayAt2s[0]), r(a.delayAt2s[1]), r(a.settled[0]), r(a.settled[1]),
			a.recovery[0].Seconds(), a.recovery[1].Seconds())
	}
	w.WriteString(b.String())
}
