// Command peerlab runs the tail lab's hedging arms for tailguard and its
// peers in one process, against one loopback server, with one seed and one
// arrival schedule, so their percentiles and extra load compare fairly.
//
//	cd bench && go run ./cmd/peerlab                 # d1, about 80 s
//	cd bench && go run ./cmd/peerlab -dist d3 -svg peers-d3.svg
//	cd bench && go run ./cmd/peerlab -step 3         # latency ×3 and back, about 60 s
//
// Every fixed-delay arm hedges at the distribution's true p95; every
// adaptive arm at the observed p95. Each sends at most one hedge.
//
// With -step F the adaptive arms instead face, in turn, three phases of
// -phase each (10 s by default), every latency × F in the middle one, and
// a table shows per second of request starts the share of each arm's
// requests that were hedged and their p99: how fast it follows the step up
// and back, and whether it storms.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/tailguard/tailguard/bench"
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

func main() { lab.RunMain("peerlab", run) }

type options struct {
	lab.Options
	age   uint
	step  float64       // the -step scenario's latency multiplier; 0: the plain lab
	phase time.Duration // each phase of the -step scenario
}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("peerlab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	o.Register(fs)
	fs.UintVar(&o.age, "age", 1000, "failsafe-go quantile hedge: quantileAge (samples its moving quantile remembers)")
	fs.Float64Var(&o.step, "step", 0, "step scenario: every latency × this factor in the middle phase (0: the plain lab)")
	fs.DurationVar(&o.phase, "phase", 10*time.Second, "step scenario: length of each phase (steady, stepped, steady again)")
	if err := o.Parse(fs, args); err != nil {
		return o, err
	}
	switch {
	case o.age < 1:
		return o, errors.New("-age must be at least 1")
	case o.step < 0:
		return o, fmt.Errorf("-step must not be negative, got %v", o.step)
	case o.phase < time.Second:
		return o, fmt.Errorf("-phase must be at least 1s, got %v", o.phase)
	}
	return o, nil
}

// arms are the setups compared. hedge.MinSamples (20) is also failsafe's
// execution threshold, so both adaptive arms start hedging after as many
// requests.
func arms(o options, p95 time.Duration) []lab.Arm {
	fixed := lab.Dur(p95)
	return []lab.Arm{
		{Name: "no hedging"},
		{Name: "tailguard fixed " + fixed, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{Delay: p95}).Wrap(base)
		}},
		{Name: "tailguard adaptive p95", Headline: true, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{}).Wrap(base)
		}},
		{Name: "failsafe-go fixed " + fixed, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base, hedgepolicy.NewWithDelay[*http.Response](p95))
		}},
		{Name: "failsafe-go quantile p95", Wrap: func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base,
				hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, o.age, hedge.MinSamples))
		}},
		{Name: "hedgedhttp fixed " + fixed, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return bench.HedgedHTTP(base, p95)
		}},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.step > 0 {
		return runStep(ctx, o, stdout, stderr)
	}
	_, _, err = lab.Main(ctx, o.Options, "peer lab", arms(o, o.TrueP95()), stdout, stderr)
	return err
}
