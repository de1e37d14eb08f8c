package quota

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

// Options are the flags every quota-lab command shares (examples/quota,
// bench/cmd/quotalab).
type Options struct {
	Dialects []Dialect
	Limit    Limit
	Latency  time.Duration
	Load     Load
	SVG      string
	Markdown bool
	Quiet    bool
	Parallel bool

	dialects string // the -dialect flag, resolved into Dialects by Parse
}

// Register defines the shared flags on fs, with their defaults.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.dialects, "dialect", "all", "how the server announces its quota: all, or a comma-separated list of ietf, github, retry-after, bare")
	fs.IntVar(&o.Limit.Rate, "quota", DefaultRate, "the server's quota, requests per second per client")
	fs.IntVar(&o.Limit.Burst, "burst", DefaultBurst, "the server's burst")
	fs.DurationVar(&o.Latency, "latency", 10*time.Millisecond, "how long the server takes to serve an admitted request")
	fs.IntVar(&o.Load.Callers, "callers", DefaultCallers, "independent callers, each an open-loop Poisson source")
	fs.Float64Var(&o.Load.Offered, "offered", DefaultOffered, "requests per second offered, all callers together")
	fs.DurationVar(&o.Load.Duration, "duration", DefaultDuration, "how long the callers offer requests")
	fs.DurationVar(&o.Load.Timeout, "timeout", DefaultTimeout, "each request's deadline, retries and waits included")
	fs.Uint64Var(&o.Load.Seed, "seed", 1, "seed for the callers' arrival schedules")
	fs.StringVar(&o.SVG, "svg", "", "write the requests/s and 429s timeline to this SVG file")
	fs.BoolVar(&o.Markdown, "markdown", false, "print the tables as Markdown")
	fs.BoolVar(&o.Quiet, "quiet", false, "no progress bar on stderr")
	fs.BoolVar(&o.Parallel, "parallel", false, "run the arms side by side instead of one after another (needs a quiet machine with cores to spare)")
}

// Parse parses args into fs (on which Register was called) and checks the
// shared flags.
func (o *Options) Parse(fs *flag.FlagSet, args []string) error {
	if err := lab.ParseFlags(fs, args); err != nil {
		return err
	}
	o.Dialects = nil
	if o.dialects == "all" {
		o.Dialects = Dialects
	} else {
		for _, name := range strings.Split(o.dialects, ",") {
			d, err := ParseDialect(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			o.Dialects = append(o.Dialects, d)
		}
	}
	switch {
	case o.Limit.Rate < 1 || o.Limit.Burst < 1:
		return fmt.Errorf("-quota and -burst must be at least 1, got %d and %d", o.Limit.Rate, o.Limit.Burst)
	case o.Latency < 0:
		return fmt.Errorf("-latency must not be negative, got %v", o.Latency)
	case o.Load.Callers < 1 || !(o.Load.Offered > 0) || o.Load.Duration <= 0 || o.Load.Timeout <= 0:
		return errors.New("-callers, -offered, -duration and -timeout must be positive")
	}
	return nil
}

// Main runs the arms against a loopback quota server once per dialect in
// o.Dialects, printing first what the lab shows, then per dialect the one
// line that proves it (requests sent per success and 429s, the plain
// client's against the throttle's) and the table, and, with o.SVG, the timeline
// plot. name titles the output ("quota lab"). Each arm's Wrap is called
// once per dialect, so every run starts cold. It returns the results, one
// slice per dialect.
func Main(ctx context.Context, o Options, name string, arms []lab.Arm, stdout, stderr io.Writer) ([][]Result, error) {
	limit := Limit{Rate: o.Limit.Rate, Period: time.Second, Burst: o.Limit.Burst}
	load, err := o.Load.normalize()
	if err != nil {
		return nil, err
	}
	offered := len(load.Schedule())
	fmt.Fprintf(stdout, "%s: how many requests a client sends per success, and how many 429s it draws, against a rate-limited upstream.\n", name)
	fmt.Fprintf(stdout, "A quota of %v per client (GCRA), %v per admitted request;\n", limit, o.Latency)
	fmt.Fprintf(stdout, "%d callers offering %g requests/s for %v (open loop, %d requests), each request's deadline %v;\n",
		load.Callers, load.Offered, load.Duration, offered, load.Timeout)
	how := "one after another"
	if o.Parallel {
		how = "side by side"
	}
	fmt.Fprintf(stdout, "the %d arms run %s, each against its own loopback server.\n", len(arms), how)

	probe := lab.StartNoiseProbe()
	var runs [][]Result
	for _, d := range o.Dialects {
		bar := NewProgress(stderr, offered*len(arms), o.Quiet, d)
		res, err := Compare(ctx, Config{Limit: limit, Dialect: d, Latency: o.Latency}, load, arms, Loopback, o.Parallel, bar)
		bar.Finish()
		if err != nil {
			return nil, err
		}
		runs = append(runs, res)
		fmt.Fprintf(stdout, "\n%s (%s):\n", d, d.About())
		writeHeadline(stdout, res)
		if err := WriteTable(stdout, res, o.Markdown); err != nil {
			return nil, err
		}
		writeVerdicts(stdout, res)
	}
	fmt.Fprintf(stdout, "\nMachine noise: %v.\n", probe.Stop())
	if o.SVG != "" {
		title := fmt.Sprintf("%s: quota %g/s, burst %d; %d callers offering %g/s", name, limit.PerSecond(), limit.Burst, load.Callers, load.Offered)
		if err := writeFile(o.SVG, func(w io.Writer) error { return WriteTimeline(w, title, runs) }); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "wrote %s (requests sent, succeeded and 429s per second; a row per dialect, a panel per arm)\n", o.SVG)
	}
	return runs, nil
}

// writeVerdicts prints the throttle issue's targets for each throttle arm
// the run has (learning the quota, and given it by hand), against the
// other libraries' arms (every arm but tailguard's and the plain client).
func writeVerdicts(w io.Writer, res []Result) {
	var throttles, peers []Result
	for _, r := range res {
		switch r.Name {
		case ArmThrottle, ArmThrottleAtQuota:
			throttles = append(throttles, r)
		case ArmPlain, ArmRetry:
		default:
			peers = append(peers, r)
		}
	}
	for _, th := range throttles {
		fmt.Fprintf(w, "targets for %s:\n", th.Name)
		for _, v := range Targets(th, peers) {
			fmt.Fprintf(w, "  %v\n", v)
		}
	}
}

// NewProgress is a [lab.Progress] over total requests labelled with the
// dialect, or nil when quiet or not on a terminal.
func NewProgress(w io.Writer, total int, quiet bool, d Dialect) *lab.Progress {
	p := lab.NewProgress(w, total, quiet)
	p.SetLabel(d.String())
	return p
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

// Command is a quota-lab command's run function for [lab.RunMain]: it
// parses the shared flags into a flag set named name, builds the arms from
// the options, and calls [Main].
func Command(name string, arms func(Options) []lab.Arm) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		var o Options
		o.Register(fs)
		if err := o.Parse(fs, args); err != nil {
			return err
		}
		_, err := Main(ctx, o, "quota lab", arms(o), stdout, stderr)
		return err
	}
}
