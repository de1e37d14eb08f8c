package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

// TestFakeClock runs the lab's arms against in-memory replicas on the fake
// clock: exact, free of machine noise, and seconds of real time for 10
// simulated seconds (five stalls) per arm. The targets must hold
// there; the loopback runs (go run ./examples/replicalab) add the network
// and the machine.
func TestFakeClock(t *testing.T) {
	o, err := parse([]string{"-n", "10000", "-rounds", "5", "-sim", "200000"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var results []lab.Result
	synctest.Test(t, func(t *testing.T) {
		results = measure(context.Background(), o, lab.Memory, nil)
	})
	ideal := simulateIdeal(o)
	if testing.Verbose() {
		var b bytes.Buffer
		writeTable(&b, results, ideal, true)
		t.Logf("fake clock, %d requests per arm:\n%s", o.n, b.String())
	}
	for _, v := range check(o, lab.Memory, results, ideal) {
		if !v.met {
			t.Error(v)
		}
	}
	for _, r := range results {
		if r.Errors != 0 || r.N != o.n {
			t.Errorf("%s: %d errors in %d requests", r.Name, r.Errors, r.N)
		}
	}
	// Sanity that can fail: the stall shows without hedging and with
	// same-URL hedging, and escaping it costs about the stalled share.
	stall := o.stall.For * 3 / 4
	if p := find(results, armNone).P999; p < stall {
		t.Errorf("no hedging: p99.9 %v, want the stall (≥ %v)", p, stall)
	}
	if p := find(results, fixedArm(armSameURL, o)).P999; p < stall {
		t.Errorf("same-URL hedging: p99.9 %v; a hedge to the stalled replica cannot escape its stall", p)
	}
	if x := find(results, fixedArm(armReplicas, o)).Extra; x > 2*ideal.Extra {
		t.Errorf("replica hedging sent %.1f%% extra, the ideal %.1f%%", 100*x, 100*ideal.Extra)
	}
	// The zero Config's mode, adaptive, must escape the pause as well:
	// its hedges go to healthy replicas, so the paused replica's hedge
	// rate (all its requests overrun their delay) must not hold them back
	// (regression: 184.3 ms, 5.80× the ideal, with 889 hedges put off).
	// Its bound is looser than the fixed arm's 1.2×: the paused replica's
	// own p95 takes in its stalls (10% of its time), so its delay climbs
	// from 12 ms to 22–34 ms and its slowest requests end near 34 ms +
	// L2, 43.0 ms (1.35×).
	adaptive := find(results, armAdaptive)
	if float64(adaptive.P999) > maxAdaptiveOverIdeal*float64(ideal.P999) {
		t.Errorf("adaptive replica hedging: p99.9 %v, %.2f× the ideal's %v (want ≤ %.1f×)", adaptive.P999,
			float64(adaptive.P999)/float64(ideal.P999), ideal.P999, maxAdaptiveOverIdeal)
	}
	if adaptive.Extra > 2*ideal.Extra {
		t.Errorf("adaptive replica hedging sent %.1f%% extra, the ideal %.1f%%", 100*adaptive.Extra, 100*ideal.Extra)
	}
}

// maxAdaptiveOverIdeal bounds the adaptive replica arm's p99.9 on the fake
// clock, as a multiple of the ideal for the fixed 20 ms delay (see
// TestFakeClock).
const maxAdaptiveOverIdeal = 1.5

// TestRunLoopback is a short run of the command over both protocols: the
// tables and verdicts print, HTTP/2 is really spoken. Its numbers are not
// checked: the machine decides them.
func TestRunLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-n", "300", "-rate", "2000", "-rounds", "1", "-sim", "10000", "-every", "100ms", "-pause", "20ms", "-quiet"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{
		"replica lab: while one replica pauses, a hedge to another replica escapes the pause",
		"3 replicas", "HTTP/2: p99.9 ", "hedging to another replica\nat ", "HTTP/1.1:", "HTTP/2:", "no hedging", "same URL, hedge at 20.0ms", "replicas, hedge at 20.0ms",
		"replicas, adaptive p95", "ideal: min(L1, 20.0ms + L2) (sim)", "p99.9 / ideal", "HTTP/2: replica hedging's p99.9 at most 0.5× same-URL hedging's",
		"Machine noise: ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr not quiet off a terminal: %q", errOut.String())
	}
}

// TestHTTP2IsSpoken: the HTTP/2 fleet's requests arrive as HTTP/2, every
// arm's on one warm connection per replica.
func TestHTTP2IsSpoken(t *testing.T) {
	o, err := parse([]string{"-n", "60", "-rounds", "1"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	fleet := lab.StartFleet([]lab.ServerConfig{{Dist: lab.Steady, Network: lab.HTTP2}, {Dist: lab.Steady, Network: lab.HTTP2}})
	defer fleet.Close()
	res := lab.Compare(context.Background(), fleet, lab.Load{N: o.n, Rate: 1000, Seed: 1}, arms(o, fleet)[:1], nil)
	if res[0].Errors != 0 {
		t.Fatalf("%d errors", res[0].Errors)
	}
	if st := fleet.Stats(); st.HTTP2 != st.Attempts || st.Attempts != int64(o.n) {
		t.Errorf("%d of %d attempts over HTTP/2, want all %d", st.HTTP2, st.Attempts, o.n)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-rate", "0"}, {"-delay", "0s"}, {"-pause", "3s"}, {"-replicas", "1"},
		{"-proto", "h3"}, {"-sim", "10"}, {"extra"}} {
		var errOut bytes.Buffer
		if _, err := parse(args, &errOut); err == nil {
			t.Errorf("parse(%q) succeeded", args)
		}
	}
	o, err := parse(nil, os.Stderr)
	if err != nil || o.delay != 20*time.Millisecond || o.stall != (lab.Stall{Every: 2 * time.Second, For: 200 * time.Millisecond, At: stallAt}) {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}
