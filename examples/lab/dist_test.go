package lab

import (
	"testing"
	"time"
)

func TestDistQuantiles(t *testing.T) {
	tests := []struct {
		d      Dist
		q      float64
		lo, hi time.Duration
	}{
		{D1, 0.50, 9900 * time.Microsecond, 10100 * time.Microsecond},
		{D1, 0.95, 11500 * time.Microsecond, 12000 * time.Microsecond},
		{D1, 0.995, time.Second, time.Second},
		{D2, 0.50, 9700 * time.Microsecond, 10300 * time.Microsecond},
		// exp(0.8 × 1.645) × 10 ms ≈ 37.2 ms
		{D2, 0.95, 35 * time.Millisecond, 39 * time.Millisecond},
		{D3, 0.0001, 5 * time.Millisecond, 5200 * time.Microsecond},
		// 5 ms × 2^(1/1.5) ≈ 7.94 ms
		{D3, 0.50, 7800 * time.Microsecond, 8100 * time.Microsecond},
	}
	for _, tt := range tests {
		got := tt.d.Quantile(tt.q, 50_000, 1)
		if got < tt.lo || got > tt.hi {
			t.Errorf("%s q%v = %v, want in [%v, %v]", tt.d.Name, tt.q, got, tt.lo, tt.hi)
		}
	}
}

func TestDistDeterministic(t *testing.T) {
	a, b := NewRand(7), NewRand(7)
	for range 1000 {
		if x, y := D2.Sample(a), D2.Sample(b); x != y {
			t.Fatalf("same seed gave %v and %v", x, y)
		}
	}
}

func TestLookupDist(t *testing.T) {
	for _, d := range Dists {
		got, err := LookupDist(d.Name)
		if err != nil || got.Name != d.Name {
			t.Errorf("LookupDist(%q) = %v, %v", d.Name, got, err)
		}
	}
	if _, err := LookupDist("d9"); err == nil {
		t.Error("LookupDist(d9) succeeded")
	}
}

func TestD3Capped(t *testing.T) {
	r := NewRand(1)
	for range 100_000 {
		if d := D3.Sample(r); d > 5*time.Second || d < 5*time.Millisecond {
			t.Fatalf("d3 drew %v, outside [5ms, 5s]", d)
		}
	}
}
