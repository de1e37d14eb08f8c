package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-n", "300", "-rate", "300", "-rounds", "1"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	if !strings.HasPrefix(s, "slo: hedging on an SLO schedule") {
		t.Errorf("output does not start with what it shows:\n%s", s)
	}
	if i, j := strings.Index(s, "Within the 25ms SLO: "), strings.Index(s, "no hedging"); i < 0 || i > j {
		t.Errorf("the one number must come before the table:\n%s", s)
	}
	for _, want := range []string{
		"hedge.SLO(25ms, 0.5)", "one hedge at 12.5ms", "hedge.SLO(25ms, 0.5, 0.75, 0.95)",
		"hedges at 12.5ms, 18.75ms, 23.75ms", "Quantile: 0.95",
		"no hedging", "SLO:", "points:", "adaptive:", "within the 25ms SLO", "p99.9", "Machine noise: ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestWithin(t *testing.T) {
	xs := []time.Duration{1, 2, 3, 4}
	for _, tt := range []struct {
		limit time.Duration
		want  float64
	}{{0, 0}, {2, 0.5}, {4, 1}, {9, 1}} {
		if got := within(xs, tt.limit); got != tt.want {
			t.Errorf("within(%v) = %v, want %v", tt.limit, got, tt.want)
		}
	}
}
