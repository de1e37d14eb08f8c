package lab

import (
	"testing"
	"time"
)

// The field notes' Monte Carlo for d1 hedged at its p95: p99 ≈ 19.4 ms,
// p99.9 ≈ 23.1 ms, 5.0% extra.
func TestSimulateIdealD1(t *testing.T) {
	p95 := D1.Quantile(0.95, 100_000, 1)
	id := SimulateIdeal(D1, p95, 100_000, 2)
	if id.P99 < 18500*time.Microsecond || id.P99 > 20*time.Millisecond {
		t.Errorf("ideal p99 = %v, want ≈ 19.4ms", id.P99)
	}
	if id.P999 < 22*time.Millisecond || id.P999 > 24*time.Millisecond {
		t.Errorf("ideal p99.9 = %v, want ≈ 23.1ms", id.P999)
	}
	if id.Extra < 0.045 || id.Extra > 0.055 {
		t.Errorf("ideal extra = %v, want ≈ 0.05", id.Extra)
	}
}

func TestSimulateIdealNeverHedged(t *testing.T) {
	id := SimulateIdeal(D2, time.Hour, 1000, 1)
	if id.Extra != 0 {
		t.Errorf("extra = %v with a delay no latency exceeds", id.Extra)
	}
}
