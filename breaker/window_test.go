package breaker

import (
	"testing"
	"time"
)

func TestOutcomesWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	w := &outcomes{period: time.Second} // a 10 s window
	steps := []struct {
		name string
		at   time.Duration
		v    verdict
		read bool // only read the totals
		want tally
	}{
		{"first success", 0, success, false, tally{successes: 1}},
		{"failure same bucket", 500 * time.Millisecond, failure, false, tally{1, 1, 0}},
		{"excluded later", 3 * time.Second, excluded, false, tally{1, 1, 1}},
		{"still all in window at 9.9s", 9900 * time.Millisecond, 0, true, tally{1, 1, 1}},
		{"first bucket rolled out at 10s", 10 * time.Second, 0, true, tally{0, 0, 1}},
		{"failure at 12s", 12 * time.Second, failure, false, tally{0, 1, 1}},
		{"excluded rolled out at 13s", 13 * time.Second, 0, true, tally{0, 1, 0}},
		{"clock steps back: counts kept", 11 * time.Second, failure, false, tally{0, 2, 0}},
		{"a gap of a whole window clears", time.Hour, 0, true, tally{}},
	}
	for _, s := range steps {
		var got tally
		if s.read {
			got, _ = w.totals(at(s.at))
		} else {
			got, _ = w.record(at(s.at), s.v, w.admit())
		}
		if got != s.want {
			t.Fatalf("%s: got %+v, want %+v", s.name, got, s.want)
		}
	}
	w.reset()
	if got, _ := w.totals(at(time.Hour)); got != (tally{}) {
		t.Fatalf("after reset: %+v", got)
	}
}

// TestOutcomesGeneration: an outcome counts only in the generation its
// attempt was admitted in; a reset forgets attempts in flight.
func TestOutcomesGeneration(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &outcomes{period: time.Second}
	old := w.admit()
	stale := w.admit()
	if _, n := w.totals(now); n != 2 {
		t.Fatalf("in flight before reset: %d, want 2", n)
	}
	w.record(now, failure, old)
	w.reset()
	if got, n := w.totals(now); got != (tally{}) || n != 0 {
		t.Fatalf("after reset: %+v, %d in flight", got, n)
	}
	fresh := w.admit()
	if got, counted := w.record(now, failure, stale); counted || got != (tally{}) {
		t.Fatalf("stale outcome: counted %v, totals %+v", counted, got)
	}
	w.abandon(stale) // a no-op: stale belongs to an earlier generation
	if _, n := w.totals(now); n != 1 {
		t.Fatalf("in flight: %d, want 1", n)
	}
	if got, counted := w.record(now, success, fresh); !counted || got != (tally{successes: 1}) {
		t.Fatalf("fresh outcome: counted %v, totals %+v", counted, got)
	}
	w.abandon(w.admit())
	if _, n := w.totals(now); n != 0 {
		t.Fatalf("in flight after abandon: %d, want 0", n)
	}
}
