// Command slo puts tailguard's hedging one-liners side by side against the
// same upstream: one hedge at a point of an SLO, hedges at several points
// of it (percentiles of the SLO), and one hedge at an observed latency
// percentile.
//
//	go run ./examples/slo
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "slo:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("slo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 3000, "requests per arm")
	rate := fs.Float64("rate", 1000, "requests per second (Poisson, open loop)")
	slo := fs.Duration("slo", 25*time.Millisecond, "latency SLO")
	quiet := fs.Bool("quiet", false, "no progress bar")
	rounds := fs.Int("rounds", 3, "interleave the arms in this many rounds, so machine noise hits all alike")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || !(*rate > 0) || *slo <= 0 || *rounds < 1 {
		return fmt.Errorf("-n, -rate, -slo and -rounds must be positive")
	}

	sloDelays := hedge.SLO(*slo, 0.5)
	points := hedge.SLO(*slo, 0.5, 0.75, 0.95)
	arms := []lab.Arm{
		{Name: "no hedging"},
		{Name: "SLO", Wrap: func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{Delays: sloDelays}).Wrap(base)
		}},
		{Name: "points", Wrap: func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{Delays: points}).Wrap(base)
		}},
		{Name: "adaptive", Wrap: func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{Quantile: 0.95}).Wrap(base)
		}},
	}

	fmt.Fprintf(stdout, "slo: hedging on an SLO schedule sends a hedge only for requests about to miss a %v target.\n", *slo)
	fmt.Fprintf(stdout, "Upstream: %s. %d requests at %g/s through each arm.\n", lab.D1, *n, *rate)

	srv := lab.NewServer(lab.D1, 1, 0)
	defer srv.Close()
	probe := lab.StartNoiseProbe()
	bar := lab.NewProgress(stderr, *n*len(arms), *quiet)
	res := lab.Compare(context.Background(), srv, lab.Load{N: *n, Rate: *rate, Seed: 1, Rounds: *rounds}, arms, bar)
	bar.Finish()
	noise := probe.Stop()

	// The one number first: requests within the SLO, unhedged and with the
	// one-line SLO schedule, and what that schedule cost.
	fmt.Fprintf(stdout, "\nWithin the %v SLO: %.1f%% of requests without hedging → %.1f%% with hedge.SLO(%v, 0.5), at %.1f%% extra attempts.\n\n",
		*slo, 100*within(res[0].Sorted, *slo), 100*within(res[1].Sorted, *slo), *slo, 100*res[1].Extra)
	fmt.Fprintf(stdout, "  SLO:      hedge.New(hedge.Config{Delays: hedge.SLO(%v, 0.5)})             // one hedge at %v\n", *slo, sloDelays[0])
	fmt.Fprintf(stdout, "  points:   hedge.New(hedge.Config{Delays: hedge.SLO(%v, 0.5, 0.75, 0.95)}) // hedges at %v, %v, %v\n", *slo, points[0], points[1], points[2])
	fmt.Fprintf(stdout, "  adaptive: hedge.New(hedge.Config{Quantile: 0.95})                             // one hedge at the observed p95\n\n")
	if err := lab.WriteTable(stdout, res, nil, false); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	for _, r := range res {
		fmt.Fprintf(stdout, "%-11s %5.1f%% of requests within the %v SLO, %4.1f%% extra attempts\n",
			r.Name+":", 100*within(r.Sorted, *slo), *slo, 100*r.Extra)
	}
	fmt.Fprintf(stdout, "\nSLO hedging fires at fixed points before the target: it costs the share of requests\n"+
		"slower than %v (here %.1f%%), which grows if the upstream slows down, up to the budget.\n", sloDelays[0], 100*res[1].Extra)
	fmt.Fprintf(stdout, "More points (here %.1f%% extra) give a request stuck twice another chance before the SLO.\n", 100*res[2].Extra)
	fmt.Fprintf(stdout, "Adaptive hedging tracks the upstream and costs about 1 − quantile (here %.1f%%) whatever its speed.\n", 100*res[3].Extra)
	fmt.Fprintf(stdout, "\nMachine noise: %v.\n", noise)
	return nil
}

// within returns the fraction of sorted latencies at or under limit.
func within(sorted []time.Duration, limit time.Duration) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i] > limit })
	return float64(i) / float64(len(sorted))
}
