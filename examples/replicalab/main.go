// Command replicalab measures hedging to another replica. It starts three
// loopback replicas of one service, each answering in N(10 ms, 1 ms),
// one of which stalls for 200 ms every 2 s (a stop-the-world GC pause:
// every request to it waits, whichever connection it came on). A
// client-side load balancer spreads an open-loop stream of requests over
// them, round robin, through each arm: no hedging, hedging to the same URL,
// and hedging to another replica (hedge.Config.Replicas). It runs over
// HTTP/1.1 keep-alive and over HTTP/2 (TLS), and prints each arm's
// percentiles and extra attempts beside the ideal for this setup,
// min(L1, d + L2): L1 the latency of the replica the original went to,
// stall included, L2 a healthy replica's, d the hedge delay.
//
//	go run ./examples/replicalab              # both protocols, about 3 minutes
//	go run ./examples/replicalab -proto h2    # HTTP/2 only
//
// Flags: -n requests per arm, -rate requests per second, -seed, -rounds,
// -delay (the fixed arms' hedge delay), -budget (the hedging arms' budget
// Ratio), -every and -pause (the stall),
// -replicas, -proto h1|h2|both, -sim (simulated requests for the ideal),
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
)

func main() { lab.RunMain("replicalab", run) }

// stallAt is when, in each round, the stalled replica's first pause
// begins: early enough that a round of 2 s sees one whole pause.
const stallAt = 500 * time.Millisecond

type options struct {
	n        int
	rate     float64
	seed     uint64
	rounds   int
	delay    time.Duration
	budget   float64
	stall    lab.Stall
	replicas int
	networks []lab.Network
	sim      int
	markdown bool
	quiet    bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("replicalab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{stall: lab.Stall{At: stallAt}}
	var proto string
	fs.IntVar(&o.n, "n", 20000, "requests per arm")
	fs.Float64Var(&o.rate, "rate", 1000, "mean arrival rate, requests per second (Poisson, open loop)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the arrival schedule and the replicas' latency draws")
	fs.IntVar(&o.rounds, "rounds", 10, "interleave the arms in this many rounds; the stall schedule restarts with each")
	fs.DurationVar(&o.delay, "delay", 20*time.Millisecond, "the fixed arms' hedge delay")
	fs.Float64Var(&o.budget, "budget", 0.5, "every hedging arm's budget Ratio: extra attempts per first attempt in any span of up to a second")
	fs.DurationVar(&o.stall.Every, "every", 2*time.Second, "the stalled replica pauses this often")
	fs.DurationVar(&o.stall.For, "pause", 200*time.Millisecond, "for this long")
	fs.IntVar(&o.replicas, "replicas", 3, "replicas of the service; the first one stalls")
	fs.StringVar(&proto, "proto", "both", "h1 (HTTP/1.1 keep-alive), h2 (HTTP/2 over TLS) or both")
	fs.IntVar(&o.sim, "sim", 1_000_000, "simulated requests for the ideal")
	fs.BoolVar(&o.markdown, "markdown", false, "print the tables as Markdown")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar on stderr")
	if err := lab.ParseFlags(fs, args); err != nil {
		return o, err
	}
	switch proto {
	case "h1":
		o.networks = []lab.Network{lab.HTTP1}
	case "h2":
		o.networks = []lab.Network{lab.HTTP2}
	case "both":
		o.networks = []lab.Network{lab.HTTP1, lab.HTTP2}
	default:
		return o, fmt.Errorf("-proto must be h1, h2 or both, got %q", proto)
	}
	switch {
	case o.n < 1 || o.rounds < 1:
		return o, errors.New("-n and -rounds must be at least 1")
	case !(o.rate > 0):
		return o, fmt.Errorf("-rate must be positive, got %v", o.rate)
	case !(o.budget > 0 && o.budget <= 1):
		return o, fmt.Errorf("-budget must be in (0, 1], got %v", o.budget)
	case o.delay <= 0:
		return o, fmt.Errorf("-delay must be positive, got %v", o.delay)
	case o.stall.Every <= 0 || o.stall.For <= 0 || o.stall.For >= o.stall.Every:
		return o, errors.New("-pause must be positive and shorter than -every")
	case o.replicas < 2:
		return o, fmt.Errorf("-replicas must be at least 2, got %d", o.replicas)
	case o.sim < 1000:
		return o, fmt.Errorf("-sim must be at least 1000, got %d", o.sim)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	ideal := simulateIdeal(o)
	fmt.Fprintln(stdout, "replica lab: while one replica pauses, a hedge to another replica escapes the pause; a hedge to the same URL waits it out.")
	fmt.Fprintf(stdout, "%d replicas answering in %s; replica 0 %s (the first pause %v into each round)\n",
		o.replicas, lab.Steady.About, o.stall, o.stall.At)
	fmt.Fprintf(stdout, "%d requests per arm in %d interleaved rounds, Poisson arrivals at %g/s (open loop), seed %d,\nspread round robin over the replicas by the client\n",
		o.n, o.rounds, o.rate, o.seed)
	probe := lab.StartNoiseProbe()
	missed := 0
	for _, network := range o.networks {
		bar := lab.NewProgress(stderr, o.n*len(arms(o, nil)), o.quiet)
		results := measure(ctx, o, network, bar)
		bar.Finish()
		if err := ctx.Err(); err != nil {
			return err
		}
		// The one number first: p99.9, where the pauses show.
		none, same, replicas := results[0], find(results, fixedArm(armSameURL, o)), find(results, fixedArm(armReplicas, o))
		fmt.Fprintf(stdout, "\n%s: p99.9 %s without hedging, %s hedging to the same URL, %s hedging to another replica\n"+
			"at %.1f%% extra load (ideal %s).\n\n", network, lab.Dur(none.P999), lab.Dur(same.P999), lab.Dur(replicas.P999),
			100*replicas.Extra, lab.Dur(ideal.P999))
		if err := writeTable(stdout, results, ideal, o.markdown); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		for _, v := range check(o, network, results, ideal) {
			fmt.Fprintln(stdout, v)
			if !v.met {
				missed++
			}
		}
	}
	fmt.Fprintf(stdout, "\nMachine noise: %v.\n", probe.Stop())
	if missed > 0 {
		fmt.Fprintf(stdout, "%d target(s) missed.\n", missed)
	}
	return nil
}

// measure runs every arm against a fresh fleet reached over network and
// returns the arms' results.
func measure(ctx context.Context, o options, network lab.Network, bar *lab.Progress) []lab.Result {
	cfgs := make([]lab.ServerConfig, o.replicas)
	for i := range cfgs {
		cfgs[i] = lab.ServerConfig{Dist: lab.Steady, Seed: o.seed + uint64(i), Network: network}
	}
	cfgs[0].Stall = o.stall
	fleet := lab.StartFleet(cfgs)
	defer fleet.Close()
	return lab.Compare(ctx, fleet, lab.Load{N: o.n, Rate: o.rate, Seed: o.seed, Rounds: o.rounds}, arms(o, fleet), bar)
}

// writeTable prints the arms and the ideal, led by p99.9 (where the
// pauses show) and its multiple of the ideal's, then the extra attempts,
// the other percentiles and errors.
func writeTable(w io.Writer, results []lab.Result, ideal lab.Result, markdown bool) error {
	return lab.WriteLedTable(w, append(results, ideal), &ideal, lab.Quantile{Name: "p99.9", Q: 0.999}, markdown)
}
