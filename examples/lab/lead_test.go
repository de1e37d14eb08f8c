package lab

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLeadQuantile(t *testing.T) {
	const n = 200_000
	for _, name := range []string{"d1", "d2", "d3"} {
		d, err := LookupDist(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range []uint64{1, 2, 3} {
			ideal := SimulateIdeal(d, d.Quantile(0.95, n, seed), n, seed+1)
			if got := LeadQuantile(d, ideal.Summary, n, seed); got.Name != "p99.9" {
				t.Errorf("%s seed %d: lead %s, want p99.9", name, seed, got.Name)
			}
		}
	}
	// The choice follows the ratio: against an ideal that is fast only at
	// p90, p90 leads.
	steady := Dist{Name: "steady", sample: sampleSteady}
	ideal := Summary{P90: time.Millisecond, P99: time.Second, P999: time.Second}
	if got := LeadQuantile(steady, ideal, 10_000, 1); got.Name != "p90" {
		t.Errorf("lead %s, want p90", got.Name)
	}
}

func TestWriteLedTable(t *testing.T) {
	rs := []Result{
		{Name: "no hedging", Summary: Summary{P50: 10 * time.Millisecond, P90: 11 * time.Millisecond, P99: 12 * time.Millisecond, P999: time.Second, Max: time.Second}},
		{Name: "hedged", Summary: Summary{P999: 20 * time.Millisecond}, Extra: 0.031, Errors: 2},
	}
	ref := Result{Summary: Summary{P999: 20 * time.Millisecond}}
	var buf bytes.Buffer
	if err := WriteLedTable(&buf, rs, &ref, Quantile{"p99.9", 0.999}, true); err != nil {
		t.Fatal(err)
	}
	want := "| arm | p99.9 | p99.9 / ideal | extra | p50 | p90 | p99 | max | errors |\n" +
		"|---|---|---|---|---|---|---|---|---|\n" +
		"| no hedging | 1.00s | 50.00× | 0.0% | 10.0ms | 11.0ms | 12.0ms | 1.00s | 0 |\n" +
		"| hedged | 20.0ms | 1.00× | 3.1% | 0.0ms | 0.0ms | 0.0ms | 0.0ms | 2 |\n"
	if buf.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestWriteHeadline(t *testing.T) {
	var buf bytes.Buffer
	base := Result{Name: "no hedging", Summary: Summary{P999: time.Second}}
	arm := Result{Name: "adaptive p95", Summary: Summary{P999: 28400 * time.Microsecond}, Extra: 0.027}
	ideal := Result{Summary: Summary{P999: 23100 * time.Microsecond}, Extra: 0.05}
	if err := WriteHeadline(&buf, Quantile{"p99.9", 0.999}, "d1", base, arm, ideal); err != nil {
		t.Fatal(err)
	}
	want := "p99.9, where hedging acts on d1: 1.00s (no hedging) → 28.4ms (adaptive p95) at 2.7% extra load; the ideal hedge: 23.1ms at 5.0%.\n"
	if buf.String() != want {
		t.Errorf("headline:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestHeadlineArm(t *testing.T) {
	if got := headline([]Arm{{Name: "a"}, {Name: "b", Headline: true}, {Name: "c"}}); got != 1 {
		t.Errorf("marked arm: %d, want 1", got)
	}
	if got := headline([]Arm{{Name: "a"}, {Name: "b"}}); got != 1 {
		t.Errorf("no arm marked: %d, want the last, 1", got)
	}
}

func TestQuantileOfPanicsOutsideSummary(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "p75") {
			t.Errorf("recover() = %v, want a panic naming p75", r)
		}
	}()
	Quantile{"p75", 0.75}.Of(Summary{})
}
