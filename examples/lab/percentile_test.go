package lab

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := make([]time.Duration, 100)
	for i := range xs {
		xs[i] = time.Duration(i + 1) // 1..100
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.01, 1}, {0.5, 50}, {0.505, 51}, {0.99, 99}, {0.999, 100}, {1, 100}, {0, 1}}
	for _, tt := range tests {
		if got := Percentile(xs, tt.q); got != tt.want {
			t.Errorf("Percentile(1..100, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %v", got)
	}
}

func TestSummarize(t *testing.T) {
	xs := []time.Duration{5, 1, 4, 2, 3}
	s := Summarize(xs)
	want := Summary{N: 5, P50: 3, P90: 5, P99: 5, P999: 5, Max: 5}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if xs[0] != 1 || xs[4] != 5 {
		t.Errorf("not sorted in place: %v", xs)
	}
}
