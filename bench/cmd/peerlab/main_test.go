package main

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunSmoke(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-n", "200", "-rate", "400", "-sim", "20000", "-rounds", "1"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{"peer lab: what hedging does to the slowest requests of d1",
		"p99.9, where hedging acts on d1: ", "(tailguard adaptive p95) at ", "no hedging", "tailguard adaptive p95", "failsafe-go quantile p95",
		"failsafe-go fixed", "hedgedhttp fixed", "ideal: hedge at p95", "Machine noise: "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// -step runs the adaptive arms through a latency step and prints the
// per-second table.
func TestRunStepSmoke(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-step", "3", "-phase", "1s", "-rate", "200"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{"peer lab, step:", "×3 from 1s to 2s", "| 0 | ×1 |", "| 1 | ×3 |", "| 2 | ×1 |",
		"tailguard adaptive p95: peak", "failsafe-go quantile p95: peak", "hedged | p99"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{{"-dist", "x"}, {"-n", "0"}, {"-rate", "-1"}, {"-age", "0"}, {"-rounds", "0"}, {"more"},
		{"-step", "-1"}, {"-step", "3", "-phase", "10ms"}} {
		var b bytes.Buffer
		if err := run(context.Background(), args, &b, &b); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// A hedge counts for the second its request was scheduled in, not the one
// it was sent in: a request at 0.999 s hedged at 1.012 s is second 0's,
// and second 1, none of whose requests hedged, shows 0%, not the −2.1%
// "extra" that sent-second counting printed.
func TestTallyBySchedule(t *testing.T) {
	sched := []time.Duration{100 * time.Millisecond, 999 * time.Millisecond, 1100 * time.Millisecond, 1500 * time.Millisecond}
	lat := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
	attempts := make([]atomic.Int32, len(sched))
	for i, n := range []int32{1, 2, 1, 1} {
		attempts[i].Store(n)
	}
	got := tally(sched, lat, attempts, 2)
	if got[0].requests != 2 || got[0].hedged != 1 || hedgedShare(got[0]) != 0.5 {
		t.Errorf("second 0: %+v, want 2 requests, 1 hedged", got[0])
	}
	if got[1].requests != 2 || got[1].hedged != 0 || hedgedShare(got[1]) != 0 {
		t.Errorf("second 1: %+v, want 2 requests, none hedged", got[1])
	}
	if got[0].p99 != 20*time.Millisecond {
		t.Errorf("second 0's p99 = %v, want 20ms", got[0].p99)
	}
}
