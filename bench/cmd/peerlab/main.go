// Command peerlab runs the tail lab's hedging arms for tailguard and its
// peers in one process, against one loopback server, with one seed and one
// arrival schedule, so their percentiles and extra load compare fairly.
//
//	cd bench && go run ./cmd/peerlab                 # d1, about 80 s
//	cd bench && go run ./cmd/peerlab -dist d3 -svg peers-d3.svg
//
// Every fixed-delay arm hedges at the distribution's true p95; every
// adaptive arm at the observed p95. Each sends at most one hedge.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/tailguard/tailguard/bench"
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "peerlab:", err)
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
	capacity int
	sim      int
	age      uint
	markdown bool
	quiet    bool
	rounds   int
}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("peerlab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dist := fs.String("dist", "d1", "latency distribution: d1, d2, d3 (see examples/taillab)")
	var o options
	fs.IntVar(&o.n, "n", 10000, "requests per arm")
	fs.Float64Var(&o.rate, "rate", 1000, "mean arrival rate, requests per second (Poisson, open loop)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the arrival schedule and the server's latency draws")
	fs.StringVar(&o.svg, "svg", "", "write a latency CDF plot to this SVG file")
	fs.IntVar(&o.capacity, "capacity", 0, "requests the server serves at once, the rest queue (0: unlimited)")
	fs.IntVar(&o.sim, "sim", 1_000_000, "simulated requests for the ideal and the true p95")
	fs.UintVar(&o.age, "age", 1000, "failsafe-go quantile hedge: quantileAge (samples its moving quantile remembers)")
	fs.BoolVar(&o.markdown, "markdown", false, "print the table as Markdown")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar on stderr")
	fs.IntVar(&o.rounds, "rounds", 10, "interleave the arms in this many rounds, so machine noise hits all alike")
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
	case o.age < 1:
		return o, errors.New("-age must be at least 1")
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
		{Name: "tailguard adaptive p95", Wrap: func(base http.RoundTripper) http.RoundTripper {
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
	p95 := o.dist.Quantile(0.95, o.sim, o.seed)
	ideal := lab.IdealResult(fmt.Sprintf("ideal: hedge at p95 %s (sim)", lab.Dur(p95)),
		lab.SimulateIdeal(o.dist, p95, o.sim, o.seed+1))
	as := arms(o, p95)

	srv := lab.NewServer(o.dist, o.seed, o.capacity)
	defer srv.Close()
	fmt.Fprintf(stdout, "peer lab: %s\n", o.dist)
	fmt.Fprintf(stdout, "%d requests per arm in %d interleaved rounds, Poisson arrivals at %g/s (open loop), seed %d,\none loopback server, capacity %s\n\n",
		o.n, o.rounds, o.rate, o.seed, capacityString(o.capacity))

	probe := lab.StartNoiseProbe()
	bar := lab.NewProgress(stderr, o.n*len(as), o.quiet)
	results := lab.Compare(ctx, srv, lab.Load{N: o.n, Rate: o.rate, Seed: o.seed, Rounds: o.rounds}, as, bar)
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return err
	}
	noise := probe.Stop()
	rows := append(results, ideal)
	if err := lab.WriteTable(stdout, rows, &ideal, o.markdown); err != nil {
		return err
	}
	median := o.dist.Quantile(0.5, o.sim, o.seed)
	fmt.Fprintf(stdout, "\nLab floor: ≈ %s per request (unhedged p50 %s vs the distribution's median %s).\n",
		lab.Dur(results[0].P50-median), lab.Dur(results[0].P50), lab.Dur(median))
	fmt.Fprintf(stdout, "Machine noise: %v.\n", noise)
	if o.svg != "" {
		series := make([]lab.Series, len(rows))
		for i, r := range rows {
			series[i] = lab.Series{Name: r.Name, Sorted: r.Sorted, Dashed: i == len(rows)-1}
		}
		f, err := os.Create(o.svg)
		if err != nil {
			return err
		}
		title := fmt.Sprintf("peer lab %s: %s, %d requests at %g/s", o.dist.Name, o.dist.About, o.n, o.rate)
		if err := lab.WriteCDF(f, title, series); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", o.svg)
	}
	return nil
}

func capacityString(c int) string {
	if c <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(c)
}
