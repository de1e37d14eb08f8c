// Command taillab measures what hedging does to tail latency. It starts a
// loopback server whose per-attempt latency follows a chosen distribution,
// sends it an open-loop stream of requests through each arm (no hedging, a
// fixed delay, an SLO schedule, adaptive p95 with a budget), and prints each
// arm's percentiles and extra load beside the ideal a hedge could reach.
//
//	go run ./examples/taillab                      # d1, about a minute
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
	"time"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

func main() { lab.RunMain("taillab", run) }

type options struct {
	lab.Options
	delay    time.Duration
	slo      time.Duration
	quantile float64
	budget   float64
}

// sloTargets are per-distribution SLO targets for the SLO arm: a p99 goal
// a service owner could plausibly write down, about 2.5 × the p95.
var sloTargets = map[string]time.Duration{"d1": 25 * time.Millisecond, "d2": 80 * time.Millisecond, "d3": 80 * time.Millisecond}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("taillab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	o.Register(fs)
	fs.DurationVar(&o.delay, "delay", 0, "fixed arm's hedge delay (default: the distribution's true p95)")
	fs.DurationVar(&o.slo, "slo", 0, "SLO arm's target; it hedges at half of it (default: 25ms for d1, 80ms for d2, d3)")
	fs.Float64Var(&o.quantile, "quantile", hedge.DefaultQuantile, "adaptive arm's latency quantile")
	fs.Float64Var(&o.budget, "budget", hedge.DefaultBudgetRatio, "every hedging arm's budget: extra attempts per request")
	if err := o.Parse(fs, args); err != nil {
		return o, err
	}
	switch {
	case !(o.quantile > 0 && o.quantile < 1):
		return o, fmt.Errorf("-quantile must be in (0, 1), got %v", o.quantile)
	case !(o.budget > 0 && o.budget <= 1):
		return o, fmt.Errorf("-budget must be in (0, 1], got %v", o.budget)
	case o.delay < 0 || o.slo < 0:
		return o, errors.New("-delay and -slo must not be negative")
	}
	if o.slo == 0 {
		o.slo = sloTargets[o.Dist.Name]
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.delay == 0 {
		o.delay = o.TrueP95()
	}
	_, _, err = lab.Main(ctx, o.Options, "tail lab", tailguardArms(o), stdout, stderr)
	return err
}
