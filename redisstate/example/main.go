// Command example runs a fleet of worker processes against one quota three
// times — each pacing itself at the quota with a plain token bucket
// (naive), with local-only tailguard throttles, and with throttles sharing
// the quota through Redis — and prints, first, one line with the numbers
// that tell them apart (how far the naive fleet overruns the quota and how
// often it is refused, the local-only fleet's goodput, the shared fleet's
// 429s and goodput), then a table of each arm and an SVG plot over time.
//
//	cd redisstate && go run ./example            # 4 workers, 10 s per arm, plot in ./fleet.svg
//	go run ./example -workers 8 -duration 20s -svg /tmp/fleet.svg
//
// It starts everything itself on 127.0.0.1: the quota lab's server
// (examples/lab/quota: 100 requests/s in bursts of 10, IETF headers), a
// redis-server (Debian's package; apt-get install redis-server), and the
// workers; the server and the workers are this program run again, each in
// its own process. Each worker offers 100 requests/s: the naive ones
// through an x/time/rate bucket at 100/s, the others through a throttle
// set to 97/s, the quota a user knows.
package main

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
	"github.com/tailguard/tailguard/examples/lab/quota"
	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
	"github.com/tailguard/tailguard/redisstate/internal/redisserver"
)

func main() {
	fleetlab.Serve() // when run as a worker, works and exits
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	workers  int
	duration time.Duration
	timeout  time.Duration
	svg      string
}

func run(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.IntVar(&o.workers, "workers", 4, "worker processes per arm")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each arm runs")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound on each call to Redis (0: redisstate.DefaultTimeout, 5ms)")
	fs.StringVar(&o.svg, "svg", "fleet.svg", "where to write the plot (empty: no plot)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.workers < 1 || o.duration < time.Second {
		return errors.New("-workers must be at least 1 and -duration at least 1s")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rs, err := redisserver.Start()
	if err != nil {
		return err
	}
	defer rs.Close()
	up, err := fleetlab.StartUpstream(context.Background(), exe, quota.Config{})
	if err != nil {
		return err
	}
	defer up.Close()
	q := up.Limit().PerSecond()
	fmt.Fprintf(out, "fleet: %d processes call one upstream under one quota, three ways: each pacing itself at the quota (naive),\n", o.workers)
	fmt.Fprintln(out, "each with a tailguard throttle of its own (local-only), and throttles sharing the quota through Redis (shared).")
	fmt.Fprintf(out, "quota %v; %d workers, each offering %.0f/s through a token bucket at %.0f/s (naive) or a throttle at %.0f/s; %v per arm\n",
		up.Limit(), o.workers, q, q, 0.97*q, o.duration)

	var ms []fleetlab.Measures
	var panels []lab.Panel
	for _, arm := range []struct {
		name, redis string
		naive       bool
	}{{"naive", "", true}, {"local", "", false}, {"shared", rs.Addr(), false}} {
		ws := make([]fleetlab.Worker, o.workers)
		for i := range ws {
			ws[i] = fleetlab.Worker{ID: i, Group: arm.name, URL: up.URL(), Redis: arm.redis,
				Prefix: "tailguard:example:", Rate: 0.97 * q, Offered: q, Duration: o.duration,
				MaxWait: 250 * time.Millisecond, Timeout: o.timeout, Seed: uint64(i + 1)}
			if arm.naive {
				ws[i].Naive, ws[i].Rate = true, q
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.duration+time.Minute)
		start, reps, err := fleetlab.Spawn(ctx, exe, nil, ws, nil)
		cancel()
		if err != nil {
			return err
		}
		arr := up.Arrivals()
		phase := fleetlab.Phase{Name: fmt.Sprintf("0-%v", o.duration), To: o.duration}
		ms = append(ms, fleetlab.Analyze(arm.name, phase, start, q, arr, reps))
		sent, ok, throttled := fleetlab.PerSecond(arm.name, start, int(o.duration/time.Second), arr)
		panels = append(panels, lab.Panel{Title: arm.name, Lines: [][]float64{sent, ok, throttled}})
	}
	// The one line that proves it, before the detail.
	fmt.Fprintf(out, "\n%s\n\n", summary(o.workers, ms))
	var table strings.Builder
	fleetlab.WriteTable(&table, ms)
	fmt.Fprint(out, table.String())
	if o.svg == "" {
		return nil
	}
	f, err := os.Create(o.svg)
	if err != nil {
		return err
	}
	tl := lab.Timeline{
		Title:  fmt.Sprintf("%d processes, one quota of %.0f/s: naive, local-only, shared", o.workers, q),
		XLabel: "seconds", YLabel: "per second", Columns: 3,
		Kinds: []lab.LineKind{{Name: "sent"}, {Name: "200"}, {Name: "429"}},
		Ref:   q, RefLabel: "quota", Panels: panels,
	}
	if err := lab.WriteTimeline(f, tl); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "plot: %s\n", o.svg)
	return nil
}

// summary is the demo's headline: how far the naive fleet overruns the
// quota and how often it is refused, the goodput the local-only throttles
// are left with, and both numbers for the shared fleet. ms holds the arms
// in the order run ran them: naive, local, shared. Its numbers are printed
// as the table prints them, so the two agree.
func summary(workers int, ms []fleetlab.Measures) string {
	naive, local, shared := ms[0], ms[1], ms[2]
	return fmt.Sprintf("%d processes share one quota of %.0f/s: naive %.1f× the quota, %.2f%% 429s; "+
		"local-only throttles %.1f%% goodput; shared through Redis %.2f%% 429s, %.1f%% goodput",
		workers, naive.Quota, naive.Overshoot(), naive.ThrottledPercent(),
		local.Goodput(), shared.ThrottledPercent(), shared.Goodput())
}
