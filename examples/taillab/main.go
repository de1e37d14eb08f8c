// Command taillab measures what hedging does to tail latency. It starts a
// loopback server whose per-attempt latency follows a chosen distribution,
// sends it an open-loop stream of requests through each arm (no hedging, a
// fixed delay, an SLO schedule, adaptive p95 with a budget), and prints each
// arm's percentiles and extra load beside the ideal a hedge could reach.
//
//	go run ./examples/taillab                      # d1, about 45 s
//	go run ./examples/taillab -dist d3 -svg d3.svg # Pareto tail, with a plot
//	go run ./examples/taillab -capacity 24         # a busy upstream
//
// Flags: -dist d1|d2|d3, -n requests per arm, -rate requests per second,
// -seed, -svg FILE, -delay (fixed arm), -slo (SLO arm), -capacity (server
// concurrency; 0 = unlimited), -sim (simulated requests for the ideal),
// -markdown, -quiet (no progress bar).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "taillab:", err)
		}
		os.Exit(2)
	}
}

type options struct {
	dist     lab.Dist
	n        int
	rate     float64
	seed     uint64
	svg      string
	delay    time.Duration
	slo      time.Duration
	capacity int
	markdown bool
	quiet    bool
	rounds   int
	sim      int
	quantile float64
	budget   float64
}

// sloTargets are per-distribution SLO targets for the SLO arm: a p99 goal
// a service owner could plausibly write down, about 2.5 × the p95.
var sloTargets = map[string]time.Duration{"d1": 25 * time.Millisecond, "d2": 80 * time.Millisecond, "d3": 80 * time.Millisecond}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("taillab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dist := fs.String("dist", "d1", "latency distribution: d1 (99% ≈ 10 ms, 1% at 1 s), d2 (lognormal), d3 (Pareto)")
	var o options
	fs.IntVar(&o.n, "n", 10000, "requests per arm")
	fs.Float64Var(&o.rate, "rate", 1000, "mean arrival rate, requests per second (Poisson, open loop)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the arrival schedule and the server's latency draws")
	fs.StringVar(&o.svg, "svg", "", "write a latency CDF plot to this SVG file")
	fs.DurationVar(&o.delay, "delay", 0, "fixed arm's hedge delay (default: the distribution's true p95)")
	fs.DurationVar(&o.slo, "slo", 0, "SLO arm's target; it hedges at half of it (default: 25ms for d1, 80ms for d2, d3)")
	fs.IntVar(&o.capacity, "capacity", 0, "requests the server serves at once, the rest queue (0: unlimited)")
	fs.BoolVar(&o.markdown, "markdown", false, "print the table as Markdown")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar on stderr")
	fs.IntVar(&o.rounds, "rounds", 10, "interleave the arms in this many rounds, so machine noise hits all alike")
	fs.IntVar(&o.sim, "sim", 1_000_000, "simulated requests for the ideal and the true p95")
	fs.Float64Var(&o.quantile, "quantile", hedge.DefaultQuantile, "adaptive arm's latency quantile")
	fs.Float64Var(&o.budget, "budget", hedge.DefaultBudgetRatio, "every hedging arm's budget: extra attempts per request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	d, err := lab.LookupDist(*dist)
	if err != nil {
		return o, err
	}
	o.dist = d
	switch {
	case o.n < 1:
		return o, fmt.Errorf("-n must be at least 1, got %d", o.n)
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds must be at least 1, got %d", o.rounds)
	case !(o.rate > 0):
		return o, fmt.Errorf("-rate must be positive, got %v", o.rate)
	case o.sim < 1000:
		return o, fmt.Errorf("-sim must be at least 1000, got %d", o.sim)
	case !(o.quantile > 0 && o.quantile < 1):
		return o, fmt.Errorf("-quantile must be in (0, 1), got %v", o.quantile)
	case !(o.budget > 0 && o.budget <= 1):
		return o, fmt.Errorf("-budget must be in (0, 1], got %v", o.budget)
	case o.delay < 0 || o.slo < 0:
		return o, errors.New("-delay and -slo must not be negative")
	}
	if o.slo == 0 {
		o.slo = sloTargets[d.Name]
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	// The ideal: one hedge at the distribution's true p95, from simulated
	// requests with no network, no scheduler, no overhead.
	p95 := o.dist.Quantile(0.95, o.sim, o.seed)
	if o.delay == 0 {
		o.delay = p95
	}
	ideal := lab.IdealResult(fmt.Sprintf("ideal: hedge at p95 %s (sim)", lab.Dur(p95)),
		lab.SimulateIdeal(o.dist, p95, o.sim, o.seed+1))

	arms := tailguardArms(o)
	srv := lab.NewServer(o.dist, o.seed, o.capacity)
	defer srv.Close()

	fmt.Fprintf(stdout, "tail lab: %s\n", o.dist)
	capacity := "unlimited capacity"
	if o.capacity > 0 {
		capacity = fmt.Sprintf("capacity %d concurrent, the rest queue", o.capacity)
	}
	fmt.Fprintf(stdout, "%d requests per arm in %d interleaved rounds, Poisson arrivals at %g/s (open loop), seed %d,\nloopback server (%s)\n\n",
		o.n, o.rounds, o.rate, o.seed, capacity)

	probe := lab.StartNoiseProbe()
	bar := lab.NewProgress(stderr, o.n*len(arms), o.quiet)
	results := lab.Compare(ctx, srv, lab.Load{N: o.n, Rate: o.rate, Seed: o.seed, Rounds: o.rounds}, arms, bar)
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return err
	}
	noise := probe.Stop()

	rows := append(results, ideal)
	if err := lab.WriteTable(stdout, rows, &ideal, o.markdown); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	// The lab's own cost: loopback HTTP, timers, goroutine scheduling. Every
	// measured arm carries it; the simulated ideal does not.
	median := o.dist.Quantile(0.5, o.sim, o.seed)
	fmt.Fprintf(stdout, "Lab floor: ≈ %s per request (unhedged p50 %s vs the distribution's median %s).\n",
		lab.Dur(results[0].P50-median), lab.Dur(results[0].P50), lab.Dur(median))
	fmt.Fprintf(stdout, "Machine noise: %v.\n", noise)
	for _, r := range results[1:] {
		fmt.Fprintf(stdout, "%s: p99 %s (unhedged %s) at %.1f%% extra, %.2f× the ideal p99.\n",
			r.Name, lab.Dur(r.P99), lab.Dur(results[0].P99), 100*r.Extra, float64(r.P99)/float64(ideal.P99))
	}
	if o.svg != "" {
		if err := writePlot(o, rows); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s (latency CDF, one line per arm)\n", o.svg)
	}
	return nil
}

func writePlot(o options, rows []lab.Result) error {
	series := make([]lab.Series, len(rows))
	for i, r := range rows {
		series[i] = lab.Series{Name: r.Name, Sorted: r.Sorted, Dashed: i == len(rows)-1}
	}
	f, err := os.Create(o.svg)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("tail lab %s: %s, %d requests at %g/s", o.dist.Name, o.dist.About, o.n, o.rate)
	if err := lab.WriteCDF(f, title, series); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
