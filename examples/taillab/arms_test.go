package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

func TestTailguardArms(t *testing.T) {
	o := options{Options: lab.Options{Dist: lab.D1}, delay: 12 * time.Millisecond, slo: 30 * time.Millisecond, quantile: 0.9, budget: 0.2}
	arms := tailguardArms(o)
	want := []string{"no hedging", "fixed delay 12.0ms", "SLO 30.0ms (hedge at 15.0ms)", "adaptive p90, budget 20%"}
	if len(arms) != len(want) {
		t.Fatalf("%d arms, want %d", len(arms), len(want))
	}
	for i, a := range arms {
		if a.Name != want[i] {
			t.Errorf("arm %d = %q, want %q", i, a.Name, want[i])
		}
		if (a.Wrap == nil) != (i == 0) {
			t.Errorf("arm %q: Wrap nil = %v", a.Name, a.Wrap == nil)
		}
		if a.Wrap != nil && a.Wrap(http.DefaultTransport) == nil {
			t.Errorf("arm %q wrapped to nil", a.Name)
		}
	}
}
