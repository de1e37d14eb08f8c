package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

// stepArms are the adaptive hedges the step scenario compares: the ones
// that must follow the upstream when it changes.
func stepArms(o options) []lab.Arm {
	return []lab.Arm{
		{Name: "tailguard adaptive p95", Wrap: func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{}).Wrap(base)
		}},
		{Name: "failsafe-go quantile p95", Wrap: func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base,
				hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, o.age, hedge.MinSamples))
		}},
	}
}

// stepSecond is what one arm saw of the requests started in one second.
type stepSecond struct {
	requests, attempts int
	p99                time.Duration
}

// countingTransport counts the attempts it sends, by the second they were
// sent in, since start.
type countingTransport struct {
	next  http.RoundTripper
	start time.Time

	mu  sync.Mutex
	per []int // guarded by mu
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := int(time.Since(c.start) / time.Second)
	c.mu.Lock()
	for len(c.per) <= s {
		c.per = append(c.per, 0)
	}
	c.per[s]++
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

// runStep is peerlab -step: each adaptive arm in turn faces o.Rate
// requests per second for three phases of o.phase, every latency × o.step
// in the middle one, and the per-second table shows how fast each follows
// the step up and back, and whether it storms: the share of extra attempts
// and the p99 of the requests started in each second.
func runStep(ctx context.Context, o options, stdout, stderr io.Writer) error {
	arms := stepArms(o)
	total := 3 * o.phase
	n := int(total.Seconds() * o.Rate)
	sched := lab.Schedule(n, o.Rate, o.Seed)
	for len(sched) > 0 && sched[len(sched)-1] >= total {
		sched = sched[:len(sched)-1]
	}
	srv := lab.NewServer(o.Dist, o.Seed, o.Capacity)
	defer srv.Close()
	fmt.Fprintf(stdout, "peer lab, step: %s, every latency ×%g from %v to %v; %g requests/s (Poisson, open loop), seed %d, one loopback server\n\n",
		o.Dist, o.step, o.phase, 2*o.phase, o.Rate, o.Seed)

	secs := int(total / time.Second)
	table := make([][]stepSecond, len(arms))
	probe := lab.StartNoiseProbe()
	for a, arm := range arms {
		srv.Reset(o.Seed)
		srv.Scale(1)
		base := lab.NewTransport()
		counter := &countingTransport{next: base}
		rt := arm.Wrap(counter)
		fmt.Fprintf(stderr, "%s: %v…\n", arm.Name, total)
		counter.start = time.Now()
		stepUp := time.AfterFunc(o.phase, func() { srv.Scale(o.step) })
		stepDown := time.AfterFunc(2*o.phase, func() { srv.Scale(1) })
		run := lab.Drive(ctx, rt, srv.URL(), sched, time.Minute, nil)
		stepUp.Stop()
		stepDown.Stop()
		srv.Scale(1)
		srv.WaitIdle(5 * time.Second)
		base.CloseIdleConnections()
		if err := ctx.Err(); err != nil {
			return err
		}
		table[a] = make([]stepSecond, secs)
		lat := make([][]time.Duration, secs)
		for i, l := range run.Latencies {
			s := int(sched[i] / time.Second)
			table[a][s].requests++
			lat[s] = append(lat[s], l)
		}
		counter.mu.Lock()
		for s := range table[a] {
			if s < len(counter.per) {
				table[a][s].attempts = counter.per[s]
			}
			table[a][s].p99 = p99(lat[s])
		}
		counter.mu.Unlock()
	}
	noise := probe.Stop()
	if err := writeStep(stdout, o, arms, table); err != nil {
		return err
	}
	// Loopback timings carry the machine's stalls; the same scenario on the
	// fake clock, without them, is bench's TestFakeClockStep.
	_, err := fmt.Fprintf(stdout, "Machine noise: %v.\n", noise)
	return err
}

func p99(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	sorted := append([]time.Duration(nil), xs...)
	lab.Summarize(sorted)
	return lab.Percentile(sorted, 0.99)
}

// writeStep prints one row per second: each arm's extra attempts, as a
// share of the requests started in that second, and their p99.
func writeStep(w io.Writer, o options, arms []lab.Arm, table [][]stepSecond) error {
	fmt.Fprintf(w, "| s | latency |")
	for _, a := range arms {
		fmt.Fprintf(w, " %s: extra | p99 |", a.Name)
	}
	fmt.Fprintf(w, "\n|---:|---:|")
	for range arms {
		fmt.Fprintf(w, "---:|---:|")
	}
	fmt.Fprintln(w)
	for s := range table[0] {
		scale := 1.0
		if at := time.Duration(s) * time.Second; at >= o.phase && at < 2*o.phase {
			scale = o.step
		}
		fmt.Fprintf(w, "| %d | ×%g |", s, scale)
		for a := range arms {
			sec := table[a][s]
			fmt.Fprintf(w, " %.1f%% | %s |", 100*extra(sec), lab.Dur(sec.p99))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for a, arm := range arms {
		peak, at, worst := 0.0, 0, time.Duration(0)
		for s, sec := range table[a] {
			if e := extra(sec); e > peak {
				peak, at = e, s
			}
			worst = max(worst, sec.p99)
		}
		fmt.Fprintf(w, "%s: peak %.1f%% extra attempts (second %d), worst per-second p99 %s.\n", arm.Name, 100*peak, at, lab.Dur(worst))
	}
	return nil
}

// extra is the share of extra attempts among the requests started in a
// second: hedges sent, attributed to the second they were sent in.
func extra(sec stepSecond) float64 {
	if sec.requests == 0 {
		return 0
	}
	return float64(sec.attempts)/float64(sec.requests) - 1
}
