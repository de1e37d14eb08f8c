package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
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

// stepSecond is what one arm saw of the requests scheduled in one second.
type stepSecond struct {
	requests, hedged int // hedged: requests that sent more than one attempt
	p99              time.Duration
}

// countingTransport counts the attempts it sends per request, by the
// request's index in the schedule (lab.RequestIndex): each attempt then
// counts for the second its request was scheduled in, whenever it is sent.
type countingTransport struct {
	next     http.RoundTripper
	attempts []atomic.Int32 // by request index
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if i, ok := lab.RequestIndex(req.Context()); ok && i < len(c.attempts) {
		c.attempts[i].Add(1)
	}
	return c.next.RoundTrip(req)
}

// tally sorts the requests of sched into seconds by when they were
// scheduled: how many, how many were hedged (sent more than one attempt),
// and their p99 latency. Counting a hedge in the second it was sent, as
// this lab once did, set a second's hedges against another second's
// requests, and a second after a busy one showed fewer attempts than
// requests (−2.1% "extra").
func tally(sched, latencies []time.Duration, attempts []atomic.Int32, secs int) []stepSecond {
	out := make([]stepSecond, secs)
	lat := make([][]time.Duration, secs)
	for i, at := range sched {
		s := int(at / time.Second)
		out[s].requests++
		if attempts[i].Load() > 1 {
			out[s].hedged++
		}
		lat[s] = append(lat[s], latencies[i])
	}
	for s := range out {
		out[s].p99 = p99(lat[s])
	}
	return out
}

// runStep is peerlab -step: each adaptive arm in turn faces o.Rate
// requests per second for three phases of o.phase, every latency × o.step
// in the middle one, and the per-second table shows how fast each follows
// the step up and back, and whether it storms: the share of the requests
// scheduled in each second that were hedged, and their p99.
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
		counter := &countingTransport{next: base, attempts: make([]atomic.Int32, len(sched))}
		rt := arm.Wrap(counter)
		fmt.Fprintf(stderr, "%s: %v…\n", arm.Name, total)
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
		table[a] = tally(sched, run.Latencies, counter.attempts, secs)
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

// writeStep prints one row per second of request starts: each arm's share
// of those requests that were hedged, and their p99.
func writeStep(w io.Writer, o options, arms []lab.Arm, table [][]stepSecond) error {
	fmt.Fprintf(w, "| s | latency |")
	for _, a := range arms {
		fmt.Fprintf(w, " %s: hedged | p99 |", a.Name)
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
			fmt.Fprintf(w, " %.1f%% | %s |", 100*hedgedShare(sec), lab.Dur(sec.p99))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for a, arm := range arms {
		peak, at, worst := 0.0, 0, time.Duration(0)
		for s, sec := range table[a] {
			if e := hedgedShare(sec); e > peak {
				peak, at = e, s
			}
			worst = max(worst, sec.p99)
		}
		fmt.Fprintf(w, "%s: peak %.1f%% of a second's requests hedged (second %d), worst per-second p99 %s.\n", arm.Name, 100*peak, at, lab.Dur(worst))
	}
	return nil
}

// hedgedShare is the share of a second's requests that were hedged.
func hedgedShare(sec stepSecond) float64 {
	if sec.requests == 0 {
		return 0
	}
	return float64(sec.hedged) / float64(sec.requests)
}
