package quota

import (
	"testing"
	"time"
)

func TestGCRASteps(t *testing.T) {
	l := Limit{Rate: 100, Period: time.Second, Burst: 3}.normalize() // one per 10 ms
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var g gcra
	steps := []struct {
		at   time.Time
		want Decision
	}{
		// Idle: a burst of 3 passes back to back, the 4th waits 10 ms.
		{ms(0), Decision{Allowed: true, Remaining: 2, ResetAfter: 10 * time.Millisecond}},
		{ms(0), Decision{Allowed: true, Remaining: 1, ResetAfter: 20 * time.Millisecond}},
		{ms(0), Decision{Allowed: true, Remaining: 0, ResetAfter: 30 * time.Millisecond}},
		{ms(0), Decision{RetryAfter: 10 * time.Millisecond, ResetAfter: 30 * time.Millisecond}},
		{ms(4), Decision{RetryAfter: 6 * time.Millisecond, ResetAfter: 26 * time.Millisecond}},
		// Exactly when told: admitted, and nothing left.
		{ms(10), Decision{Allowed: true, Remaining: 0, ResetAfter: 30 * time.Millisecond}},
		// At the quota's pace every request passes with nothing to spare.
		{ms(20), Decision{Allowed: true, Remaining: 0, ResetAfter: 30 * time.Millisecond}},
		{ms(30), Decision{Allowed: true, Remaining: 0, ResetAfter: 30 * time.Millisecond}},
		// After 25 ms idle, 2 tokens back (and a half, which does not count).
		{ms(55), Decision{Allowed: true, Remaining: 1, ResetAfter: 15 * time.Millisecond}},
		// Long idle: the full burst again, never more.
		{ms(1000), Decision{Allowed: true, Remaining: 2, ResetAfter: 10 * time.Millisecond}},
	}
	for i, s := range steps {
		if got := g.allow(l, s.at); got != s.want {
			t.Errorf("step %d at %v: %+v, want %+v", i, s.at.Sub(t0), got, s.want)
		}
	}
}

// Over a long run at twice the quota, exactly the quota (plus the first
// burst) is admitted, whatever the arrival pattern.
func TestGCRAAdmitsTheQuota(t *testing.T) {
	l := Limit{}.normalize()
	var g gcra
	t0 := time.Unix(0, 0)
	admitted := 0
	for i := range 20_001 { // 0 to 10 s inclusive, at 2,000/s
		if g.allow(l, t0.Add(time.Duration(i)*500*time.Microsecond)).Allowed {
			admitted++
		}
	}
	if want := 10*DefaultRate + DefaultBurst; admitted != want {
		t.Errorf("admitted %d in 10 s, want %d", admitted, want)
	}
}

func TestLimitNormalize(t *testing.T) {
	if got := (Limit{}).normalize(); got != (Limit{Rate: 100, Period: time.Second, Burst: 10}) {
		t.Errorf("zero Limit = %+v", got)
	}
	if got := (Limit{Rate: 5, Period: time.Minute, Burst: 1}).PerSecond(); got != 5.0/60 {
		t.Errorf("PerSecond = %v", got)
	}
	for _, bad := range []Limit{
		{Rate: -1}, {Burst: -1}, {Period: 1500 * time.Millisecond}, {Period: time.Millisecond},
		{Rate: 2e9, Period: time.Second},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v did not panic", bad)
				}
			}()
			bad.normalize()
		}()
	}
}
