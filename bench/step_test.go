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

	"github.com/tailguard/tailguard/hedge"
)

// stepPhase is the length of each phase of the step scenario: steady, ×3,
// steady again.
const stepPhase = 20 * time.Second

// stepScale is the step scenario's latency multiplier at an instant.
func stepScale(at time.Duration, factor float64) float64 {
	if at >= stepPhase && at < 2*stepPhase {
		return factor
	}
	return 1
}

// stepArm is one client's view of the step scenario.
type stepArm struct {
	name   string
	wrap   func(http.RoundTripper) http.RoundTripper
	factor float64 // the step: every latency × factor in the middle phase

	seconds   []stepSecond
	extra     float64 // extra attempts per request in the steady phase's last 20 s
	unrescued [2]int  // stalled originals left unrescued in the 12 s after each step
	stalls    [2]int  // stalled originals in those 12 s
	delayAt2s [2]time.Duration
	settled   [2]time.Duration // median hedge delay in the last 5 s of each step's phase
}

// stepSecond is what the requests started in one second saw.
type stepSecond struct {
	requests, hedged int
	p99              time.Duration
	delay            time.Duration // median delay of the hedges sent, 0 if none
}

// runStep drives 3 × stepPhase of d1 traffic at 1,000 requests per second
// through arm, all latencies × arm.factor during the middle phase.
func runStep(t *testing.T, arm *stepArm) {
	synctest.Test(t, func(t *testing.T) {
		n := int(3*stepPhase/time.Millisecond) - 1
		at := poisson(n, 1000, 1)
		for at[len(at)-1] >= 3*stepPhase {
			at = at[:len(at)-1]
		}
		load := make([]simReq, len(at))
		for i := range at {
			load[i].At = at[i]
		}
		up := newFakeUpstream(len(load), func(c simCall) simAnswer {
			d, _ := drawD1(c.ID, c.N, stepScale(c.At, arm.factor))
			return simAnswer{Latency: d}
		})
		res := simDrive([]http.RoundTripper{arm.wrap(up)}, up, load)
		synctest.Wait()
		arm.summarize(load, res, up.attempts())
	})
}

func (a *stepArm) summarize(load []simReq, res []simResult, arrivals [][]time.Duration) {
	secs := int(3 * stepPhase / time.Second)
	lat := make([][]time.Duration, secs)
	delays := make([][]time.Duration, secs)
	a.seconds = make([]stepSecond, secs)
	var steadyReq, steadyAtt int
	for i, r := range load {
		s := int(r.At / time.Second)
		a.seconds[s].requests++
		lat[s] = append(lat[s], res[i].Latency)
		if len(arrivals[i]) > 1 {
			a.seconds[s].hedged++
			delays[s] = append(delays[s], arrivals[i][1]-r.At)
		}
		if r.At >= stepPhase-20*time.Second && r.At < stepPhase {
			steadyReq++
			steadyAtt += len(arrivals[i])
		}
		for k, step := range []time.Duration{stepPhase, 2 * stepPhase} {
			if r.At < step || r.At >= step+12*time.Second {
				continue
			}
			if _, stall := drawD1(i, 1, stepScale(r.At, a.factor)); stall {
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
	for k, step := range []int{int(stepPhase / time.Second), int(2 * stepPhase / time.Second)} {
		a.delayAt2s[k] = a.seconds[step+2].delay
		var tail []time.Duration
		for s := step + int(stepPhase/time.Second) - 5; s < step+int(stepPhase/time.Second); s++ {
			tail = append(tail, delays[s]...)
		}
		a.settled[k] = quantile(tail, 0.5)
	}
}

func (a *stepArm) maxHedgedShare() (share float64, second int) {
	for s, sec := range a.seconds {
		if f := float64(sec.hedged) / float64(sec.requests); f > share {
			share, second = f, s
		}
	}
	return share, second
}

// TestFakeClockStep is the evidence that the adaptive hedge follows a
// latency step in both directions without a storm: d1 traffic (99% ≈
// N(10 ms, 1 ms), 1% at 1 s) at 1,000 requests per second, every latency ×3
// from t = 20 s to 40 s. Against failsafe-go's quantile hedge, on the fake
// clock.
//
//	go test -run TestFakeClockStep -v .
func TestFakeClockStep(t *testing.T) {
	tailguard := func(b http.RoundTripper) http.RoundTripper { return hedge.New(hedge.Config{}).Wrap(b) }
	failsafe := func(b http.RoundTripper) http.RoundTripper {
		return failsafehttp.NewRoundTripper(b, hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, 1000, hedge.MinSamples))
	}
	arms := []*stepArm{
		{name: "tailguard adaptive p95", wrap: tailguard, factor: 3},
		{name: "failsafe-go quantile p95", wrap: failsafe, factor: 3},
	}
	for _, a := range arms {
		runStep(t, a)
	}
	if testing.Verbose() {
		writeStepTable(os.Stdout, arms)
	}
	tg := arms[0]
	checkNoStorm(t, tg)
	for k, what := range []string{"the step up", "the step down"} {
		if tg.unrescued[k] > 10 {
			t.Errorf("%d of %d stalls in the 12 s after %s unrescued, want ≤ 10", tg.unrescued[k], tg.stalls[k], what)
		}
		if r := float64(tg.delayAt2s[k]) / float64(tg.settled[k]); r > 1.5 || r < 1/1.5 {
			t.Errorf("2 s after %s the hedge delay is %v, %.2f× its settled %v (want within 1.5×)", what, tg.delayAt2s[k], r, tg.settled[k])
		}
	}
	if tg.extra > 0.035 {
		t.Errorf("steady state: %.1f%% extra attempts, want ≤ 3.5%% (3.1%% before the step scenario)", 100*tg.extra)
	}
}

// TestFakeClockStepTen is the storm check for a harsher step: ×10.
//
//	go test -run TestFakeClockStepTen -v .
func TestFakeClockStepTen(t *testing.T) {
	arms := []*stepArm{
		{name: "tailguard adaptive p95", wrap: func(b http.RoundTripper) http.RoundTripper { return hedge.New(hedge.Config{}).Wrap(b) }, factor: 10},
		{name: "failsafe-go quantile p95", wrap: func(b http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(b, hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, 1000, hedge.MinSamples))
		}, factor: 10},
	}
	for _, a := range arms {
		runStep(t, a)
	}
	if testing.Verbose() {
		writeStepTable(os.Stdout, arms)
	}
	checkNoStorm(t, arms[0])
}

// checkNoStorm fails unless the share of requests hedged stays within twice
// the default budget ratio in every second.
func checkNoStorm(t *testing.T, a *stepArm) {
	t.Helper()
	share, sec := a.maxHedgedShare()
	if limit := 2 * hedge.DefaultBudgetRatio; share > limit {
		t.Errorf("storm: %.0f%% of the requests started in second %d were hedged (limit %.0f%%)", 100*share, sec, 100*limit)
	}
}

func writeStepTable(w *os.File, arms []*stepArm) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nstep ×%g at %v and back at %v, d1 at 1000/s; per second of request starts: hedged share, p99, median hedge delay\n\n", arms[0].factor, stepPhase, 2*stepPhase)
	fmt.Fprintf(&b, "| s |")
	for _, a := range arms {
		fmt.Fprintf(&b, " %s hedged | p99 | delay |", a.name)
	}
	b.WriteString("\n|---|")
	for range arms {
		b.WriteString("---|---|---|")
	}
	b.WriteString("\n")
	for s := range arms[0].seconds {
		if s < int(stepPhase/time.Second)-3 || (s > int(stepPhase/time.Second)+6 && s < int(2*stepPhase/time.Second)-1) || s > int(2*stepPhase/time.Second)+6 {
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
	for _, a := range arms {
		share, sec := a.maxHedgedShare()
		fmt.Fprintf(&b, "%s: steady extra %.1f%%; peak hedged %.1f%% (second %d); unrescued stalls %d/%d after the step up, %d/%d after the step down; delay 2 s after each step %v, %v (settled %v, %v)\n",
			a.name, 100*a.extra, 100*share, sec, a.unrescued[0], a.stalls[0], a.unrescued[1], a.stalls[1],
			a.delayAt2s[0].Round(100*time.Microsecond), a.delayAt2s[1].Round(100*time.Microsecond),
			a.settled[0].Round(100*time.Microsecond), a.settled[1].Round(100*time.Microsecond))
	}
	w.WriteString(b.String())
}
