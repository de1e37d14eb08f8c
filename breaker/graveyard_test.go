package breaker

import "testing"

// TestGraveyard steps a graveyard of capacity 2 through burials and
// exhumations: a key is remembered once, with its latest open period, and
// the oldest grave is forgotten first when it is full.
func TestGraveyard(t *testing.T) {
	k := func(h string) key { return key{Scheme: "http", Host: h, Port: 80} }
	g := newGraveyard(2)
	steps := []struct {
		op    string // "bury" or "exhume"
		host  string
		until int64
		found bool  // exhume: remembered
		want  int64 // exhume: its until
		size  int   // remembered after the step
	}{
		{"bury", "a", 10, false, 0, 1},
		{"bury", "b", 20, false, 0, 2},
		{"bury", "a", 15, false, 0, 2}, // reburied: updated, not duplicated
		{"exhume", "a", 0, true, 15, 1},
		{"exhume", "a", 0, false, 0, 1},
		{"bury", "c", 30, false, 0, 2},
		{"bury", "d", 40, false, 0, 2}, // full: the oldest live grave goes
		{"exhume", "b", 0, false, 0, 2},
		{"exhume", "c", 0, true, 30, 1},
		{"exhume", "d", 0, true, 40, 0},
		{"bury", "e", 50, false, 0, 1},
		{"exhume", "e", 0, true, 50, 0},
	}
	for i, s := range steps {
		if s.op == "bury" {
			g.bury(k(s.host), s.until, 2)
		} else {
			got, ok := g.exhume(k(s.host))
			if ok != s.found || got.until != s.want {
				t.Fatalf("step %d: exhume %s = %v, %v; want %v, %v", i, s.host, got.until, ok, s.want, s.found)
			}
		}
		if g.len() != s.size {
			t.Fatalf("step %d: %d remembered, want %d", i, g.len(), s.size)
		}
		if len(g.ring) > 2 {
			t.Fatalf("step %d: ring grew to %d", i, len(g.ring))
		}
	}
}
