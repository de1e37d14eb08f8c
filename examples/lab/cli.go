package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// Options are the flags every tail-lab command shares (examples/taillab,
// bench/cmd/peerlab): the workload, the simulation and the output.
type Options struct {
	Dist     Dist
	N        int
	Rate     float64
	Seed     uint64
	SVG      string
	Capacity int
	Sim      int
	Markdown bool
	Quiet    bool
	Rounds   int

	dist string // the -dist flag, resolved into Dist by Parse
}

// Register defines the shared flags on fs, with their defaults.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.dist, "dist", "d1", "latency distribution: d1 (99% ≈ 10 ms, 1% at 1 s), d2 (lognormal), d3 (Pareto)")
	fs.IntVar(&o.N, "n", 10000, "requests per arm")
	fs.Float64Var(&o.Rate, "rate", 1000, "mean arrival rate, requests per second (Poisson, open loop)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed for the arrival schedule and the server's latency draws")
	fs.StringVar(&o.SVG, "svg", "", "write a latency CDF plot to this SVG file")
	fs.IntVar(&o.Capacity, "capacity", 0, "requests the server serves at once, the rest queue (0: unlimited)")
	fs.IntVar(&o.Sim, "sim", 1_000_000, "simulated requests for the ideal and the true p95")
	fs.BoolVar(&o.Markdown, "markdown", false, "print the table as Markdown")
	fs.BoolVar(&o.Quiet, "quiet", false, "no progress bar on stderr")
	fs.IntVar(&o.Rounds, "rounds", 10, "interleave the arms in this many rounds, so machine noise hits all alike")
}

// Parse parses args into fs (on which Register was called) and checks the
// shared flags.
func (o *Options) Parse(fs *flag.FlagSet, args []string) error {
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	d, err := LookupDist(o.dist)
	if err != nil {
		return err
	}
	o.Dist = d
	switch {
	case o.N < 1:
		return fmt.Errorf("-n must be at least 1, got %d", o.N)
	case o.Rounds < 1:
		return fmt.Errorf("-rounds must be at least 1, got %d", o.Rounds)
	case !(o.Rate > 0):
		return fmt.Errorf("-rate must be positive, got %v", o.Rate)
	case o.Sim < 1000:
		return fmt.Errorf("-sim must be at least 1000, got %d", o.Sim)
	}
	return nil
}

// ParseFlags parses args into fs and refuses positional arguments: no lab
// command takes any.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// TrueP95 is the distribution's p95, from o.Sim simulated draws.
func (o Options) TrueP95() time.Duration { return o.Dist.Quantile(0.95, o.Sim, o.Seed) }

// Main compares arms on one loopback server drawing latencies from o.Dist,
// all facing the same arrival schedule. It prints first what the lab shows
// and, once the arms ran, the one number that proves it: at the quantile
// where hedging acts on o.Dist ([LeadQuantile]), the first arm (the
// baseline) against the Headline arm and the simulated ideal (one hedge at
// the true p95). Then the table, led by that quantile, the lab's own floor
// and the machine's noise; with o.SVG it writes the CDF plot. name titles
// the output ("tail lab"). It returns the arms' results and the ideal.
func Main(ctx context.Context, o Options, name string, arms []Arm, stdout, stderr io.Writer) ([]Result, Result, error) {
	p95 := o.TrueP95()
	ideal := IdealResult(fmt.Sprintf("ideal: hedge at p95 %s (sim)", Dur(p95)),
		SimulateIdeal(o.Dist, p95, o.Sim, o.Seed+1))

	srv := NewServer(o.Dist, o.Seed, o.Capacity)
	defer srv.Close()
	capacity := "unlimited capacity"
	if o.Capacity > 0 {
		capacity = fmt.Sprintf("capacity %d concurrent, the rest queue", o.Capacity)
	}
	fmt.Fprintf(stdout, "%s: what hedging does to the slowest requests of %s\n", name, o.Dist)
	fmt.Fprintf(stdout, "%d requests per arm in %d interleaved rounds, Poisson arrivals at %g/s (open loop), seed %d,\none loopback server (%s)\n\n",
		o.N, o.Rounds, o.Rate, o.Seed, capacity)

	probe := StartNoiseProbe()
	bar := NewProgress(stderr, o.N*len(arms), o.Quiet)
	results := Compare(ctx, srv, Load{N: o.N, Rate: o.Rate, Seed: o.Seed, Rounds: o.Rounds}, arms, bar)
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return nil, ideal, err
	}
	noise := probe.Stop()

	// The one number first, then the table led by the same quantile.
	lead := LeadQuantile(o.Dist, ideal.Summary, o.Sim, o.Seed)
	if err := WriteHeadline(stdout, lead, o.Dist.Name, results[0], results[headline(arms)], ideal); err != nil {
		return nil, ideal, err
	}
	fmt.Fprintln(stdout)
	rows := append(results, ideal)
	if err := WriteLedTable(stdout, rows, &ideal, lead, o.Markdown); err != nil {
		return nil, ideal, err
	}
	// The lab's own cost: loopback HTTP, timers, goroutine scheduling. Every
	// measured arm carries it; the simulated ideal does not.
	median := o.Dist.Quantile(0.5, o.Sim, o.Seed)
	fmt.Fprintf(stdout, "\nLab floor: ≈ %s per request (unhedged p50 %s vs the distribution's median %s).\n",
		Dur(results[0].P50-median), Dur(results[0].P50), Dur(median))
	fmt.Fprintf(stdout, "Machine noise: %v.\n", noise)
	if o.SVG != "" {
		title := fmt.Sprintf("%s %s: %s, %d requests at %g/s", name, o.Dist.Name, o.Dist.About, o.N, o.Rate)
		if err := writePlot(o.SVG, title, rows); err != nil {
			return nil, ideal, err
		}
		fmt.Fprintf(stdout, "wrote %s (latency CDF, one line per arm, the ideal dashed)\n", o.SVG)
	}
	return results, ideal, nil
}

// headline returns the index of the arm marked Headline, or of the last.
func headline(arms []Arm) int {
	for i, a := range arms {
		if a.Headline {
			return i
		}
	}
	return len(arms) - 1
}

// writePlot writes rows' latency CDFs to path; the last row is the ideal.
func writePlot(path, title string, rows []Result) error {
	series := make([]Series, len(rows))
	for i, r := range rows {
		series[i] = Series{Name: r.Name, Sorted: r.Sorted, Dashed: i == len(rows)-1}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteCDF(f, title, series); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

// RunMain is a lab command's main: it runs run with the process's
// arguments and output, under a context canceled by Ctrl-C, and exits with
// status 2 on error (printing it after name, unless it is -h's
// flag.ErrHelp, which the flag set already answered).
func RunMain(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, name+":", err)
		}
		os.Exit(2)
	}
}
