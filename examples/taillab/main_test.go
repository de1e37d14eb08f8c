package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSmoke(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "cdf.svg")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-n", "300", "-rate", "300", "-sim", "20000", "-rounds", "1", "-svg", svg}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{
		"tail lab: what hedging does to the slowest requests of d1",
		"p99.9, where hedging acts on d1: ", "(no hedging) → ", "(adaptive p95, budget 20%) at ", "no hedging", "fixed delay", "SLO 25.0ms (hedge at 12.5ms)", "adaptive p95",
		"ideal: hedge at p95", "extra", "p99.9 / ideal", "Machine noise: ", "wrote " + svg,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr not quiet off a terminal: %q", errOut.String())
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil {
		t.Errorf("SVG is not well-formed XML: %v", err)
	}
	if n := strings.Count(string(b), "<polyline"); n != 5 {
		t.Errorf("SVG has %d lines, want 5 (4 arms + ideal)", n)
	}
}

func TestRunOtherDists(t *testing.T) {
	for _, d := range []string{"d2", "d3"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"-dist", d, "-n", "100", "-rate", "500", "-sim", "10000", "-rounds", "2", "-markdown"}, &out, &out); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if !strings.Contains(out.String(), "slowest requests of "+d) || !strings.Contains(out.String(), "|---|") {
			t.Errorf("%s output:\n%s", d, out.String())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{{"-dist", "d9"}, {"-n", "0"}, {"-rate", "0"}, {"-sim", "10"}, {"-rounds", "0"}, {"-quantile", "1"}, {"-budget", "0"}, {"-delay", "-1s"}, {"extra"}} {
		var errOut bytes.Buffer
		if err := run(context.Background(), args, &errOut, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
