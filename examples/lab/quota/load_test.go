package quota

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	l := Load{Seed: 7}
	a, b := l.Schedule(), l.Schedule()
	if !slices.Equal(a, b) || !slices.IsSorted(a) {
		t.Fatal("schedule not repeatable and ascending")
	}
	// 300/s for 30 s: 9,000 ± 3σ (σ ≈ 95).
	if math.Abs(float64(len(a))-9000) > 300 || a[len(a)-1] >= 30*time.Second {
		t.Errorf("%d requests, last at %v", len(a), a[len(a)-1])
	}
	// Each of the 16 callers starts at 0.
	if n := len(a) - len(slices.DeleteFunc(slices.Clone(a), func(d time.Duration) bool { return d == 0 })); n != 16 {
		t.Errorf("%d requests at 0, want one per caller", n)
	}
	if c := (Load{Seed: 8}).Schedule(); slices.Equal(a[:100], c[:100]) {
		t.Error("another seed, same schedule")
	}
}

func TestLoadNormalize(t *testing.T) {
	l, err := Load{}.normalize()
	if err != nil || l.Callers != 16 || l.Offered != 300 || l.Duration != 30*time.Second || l.Timeout != 30*time.Second {
		t.Errorf("zero Load = %+v, %v", l, err)
	}
	for _, bad := range []Load{{Callers: -1}, {Offered: -1}, {Duration: -1}, {Timeout: -1}} {
		if _, err := bad.normalize(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
