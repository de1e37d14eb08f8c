package redisstate

import (
	"context"
	"testing"
	"time"
)

// TestFleetSteps: four processes (stores with their own Process names) on
// one Redis report and observe one key, step by step.
func TestFleetSteps(t *testing.T) {
	_, rdb := testRedis(t)
	ctx := context.Background()
	p := make([]*Store, 4)
	for i := range p {
		p[i] = newStore(t, rdb, Config{Process: string(rune('a' + i)), Timeout: generous})
	}
	const window = time.Hour
	steps := []struct {
		name            string
		who             int
		report, open    bool // if report: who reports open (or closed) first
		callers, opens  int
		self, hasNewest bool
	}{
		{name: "a calls", who: 0, callers: 1},
		{name: "b calls", who: 1, callers: 2},
		{name: "a opens", who: 0, report: true, open: true, callers: 2, opens: 1, self: true, hasNewest: true},
		{name: "c sees a's report", who: 2, callers: 3, opens: 1, hasNewest: true},
		{name: "b opens", who: 1, report: true, open: true, callers: 3, opens: 2, self: true, hasNewest: true},
		{name: "a closes", who: 0, report: true, open: false, callers: 3, opens: 1, hasNewest: true},
		{name: "a reports closed twice", who: 0, report: true, open: false, callers: 3, opens: 1, hasNewest: true},
		{name: "d sees b's report", who: 3, callers: 4, opens: 1, hasNewest: true},
		{name: "b closes", who: 1, report: true, open: false, callers: 4},
	}
	for _, st := range steps {
		s := p[st.who]
		if st.report {
			if err := s.report(ctx, "k", st.open, window); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		v, err := s.observe(ctx, "k", window, true)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if v.callers != st.callers || v.opens != st.opens || v.self != st.self || (v.newest >= 0) != st.hasNewest {
			t.Errorf("%s: %+v, want callers %d, opens %d, self %v, newest %v", st.name, v, st.callers, st.opens, st.self, st.hasNewest)
		}
		if v.newest > time.Minute {
			t.Errorf("%s: newest report %v old", st.name, v.newest)
		}
	}
}

// TestFleetWindow: reports and callers older than the window stop
// counting, and the keys expire on their own.
func TestFleetWindow(t *testing.T) {
	_, rdb := testRedis(t)
	ctx := context.Background()
	a := newStore(t, rdb, Config{Process: "a", Timeout: generous})
	b := newStore(t, rdb, Config{Process: "b", Timeout: generous})
	const window = 300 * time.Millisecond
	if err := a.report(ctx, "k", true, window); err != nil {
		t.Fatal(err)
	}
	if _, err := a.observe(ctx, "k", window, true); err != nil {
		t.Fatal(err)
	}
	v, err := b.observe(ctx, "k", window, true)
	if err != nil || v.opens != 1 || v.callers != 2 || v.newest < 0 || v.newest > window {
		t.Fatalf("within the window: %+v, %v", v, err)
	}
	time.Sleep(window + 50*time.Millisecond)
	v, err = b.observe(ctx, "k", window, true)
	if err != nil || v.opens != 0 || v.callers != 1 || v.newest != -1 {
		t.Fatalf("after the window: %+v, %v; want only b calling, no report", v, err)
	}
	time.Sleep(window + 50*time.Millisecond)
	if n, _ := rdb.Exists(ctx, a.keys("k", "opens", "callers")...).Result(); n != 0 {
		t.Errorf("%d fleet keys left after the window", n)
	}
}
