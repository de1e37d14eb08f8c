package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunSmoke(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-n", "200", "-rate", "400", "-sim", "20000", "-rounds", "1"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{"peer lab: d1", "no hedging", "tailguard adaptive p95", "failsafe-go quantile p95",
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
		"tailguard adaptive p95: peak", "failsafe-go quantile p95: peak"} {
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
