package breaker

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestHookOrder: every transition is delivered once, in order, with the
// instant it happened; Open → HalfOpen when it is noticed.
func TestHookOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []StateChange
		start := time.Now()
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, OnStateChange: func(c StateChange) {
			got = append(got, c)
		}})
		stub := newStatusStub(500)
		rt := b.Wrap(stub)
		send(t.Context(), rt, "http://a.test/") // closed → open at 0
		time.Sleep(2 * time.Second)
		send(t.Context(), rt, "http://a.test/") // → half-open, probe fails → open at 2s
		time.Sleep(3 * time.Second)
		b.StateOf(hostA) // → half-open noticed at 5s, by State
		stub.status.Store(200)
		send(t.Context(), rt, "http://a.test/") // probe succeeds → closed at 5s
		want := []StateChange{
			{hostA, Closed, Open, start},
			{hostA, Open, HalfOpen, start.Add(2 * time.Second)},
			{hostA, HalfOpen, Open, start.Add(2 * time.Second)},
			{hostA, Open, HalfOpen, start.Add(5 * time.Second)},
			{hostA, HalfOpen, Closed, start.Add(5 * time.Second)},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d transitions %+v, want %d", len(got), got, len(want))
		}
		for i := range want {
			if got[i].Key != want[i].Key || got[i].From != want[i].From || got[i].To != want[i].To || !got[i].At.Equal(want[i].At) {
				t.Errorf("transition %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

// TestHookReadsState: a hook that reads state — which deadlocks when done
// from gobreaker's own OnStateChange (gobreaker #37) — completes and sees
// the new state. It runs outside a synctest bubble because a goroutine
// stuck on a mutex is not durably blocked there, so a deadlock would hang
// instead of failing; here the wall-clock guard turns it into a failure.
func TestHookReadsState(t *testing.T) {
	type seen struct {
		change   StateChange
		state    State
		snapshot []Status
	}
	var (
		b   *Breaker
		got []seen
	)
	b = New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Nanosecond, OnStateChange: func(c StateChange) {
		got = append(got, seen{c, b.StateOf(c.Key), b.Snapshot()})
	}})
	stub := newStatusStub(500)
	rt := b.Wrap(stub)
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(context.Background(), rt, "http://a.test/") // closed → open
		time.Sleep(time.Millisecond)                     // past OpenTimeout
		stub.status.Store(200)
		send(context.Background(), rt, "http://a.test/") // → half-open → closed
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: a hook reading the breaker's state never returned")
	}
	// The hook saw each transition's target state, or a later one: the
	// hook for closed→open may run after OpenTimeout (1ns) has passed.
	wantTo := []State{Open, HalfOpen, Closed}
	if len(got) != len(wantTo) {
		t.Fatalf("got %d transitions: %+v", len(got), got)
	}
	for i, s := range got {
		if s.change.To != wantTo[i] || len(s.snapshot) != 1 || s.snapshot[0].Key != hostA {
			t.Errorf("transition %d: %+v", i, s)
		}
	}
	if got[2].state != Closed {
		t.Errorf("hook for half-open → closed read %v, want closed", got[2].state)
	}
}

// TestHookReadsStateInBubble is the deterministic counterpart: with fake
// time the hook reads exactly the state it is told about.
func TestHookReadsStateInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b *Breaker
		var got []string
		b = New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, OnStateChange: func(c StateChange) {
			got = append(got, c.To.String()+"/"+b.StateOf(c.Key).String())
		}})
		stub := newStatusStub(500)
		rt := b.Wrap(stub)
		send(t.Context(), rt, "http://a.test/")
		time.Sleep(2 * time.Second)
		stub.status.Store(200)
		send(t.Context(), rt, "http://a.test/")
		want := "open/open half-open/half-open closed/closed"
		if g := join(got); g != want {
			t.Errorf("got %q, want %q", g, want)
		}
	})
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// TestHookNeverOverlaps hammers one key from 64 goroutines: calls for the
// key never overlap and each starts where the previous one ended.
func TestHookNeverOverlaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			inside atomic.Int32
			last   = Closed
			n      int
		)
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Millisecond, HalfOpenProbes: 2})
		b.s.onStateChange = func(c StateChange) {
			if inside.Add(1) != 1 {
				t.Error("overlapping hook calls for one key")
			}
			if c.From != last {
				t.Errorf("transition %d from %v, previous ended in %v", n, c.From, last)
			}
			last = c.To
			n++
			time.Sleep(time.Microsecond) // let others pile up behind
			inside.Add(-1)
		}
		var calls atomic.Int64
		stub := newStatusStub(200)
		stub.Respond = func(_ int, req *http.Request) (*http.Response, error) {
			time.Sleep(time.Millisecond)
			status := 200
			if calls.Add(1)%3 == 0 {
				status = 500
			}
			return &http.Response{StatusCode: status, Body: http.NoBody, Request: req}, nil
		}
		rt := b.Wrap(stub)
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for range 50 {
					send(context.Background(), rt, "http://a.test/")
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		if n < 10 {
			t.Errorf("only %d transitions; the test did not exercise the hook", n)
		}
	})
}

// TestHookPanic: a panicking hook panics its caller, and later transitions
// are still delivered.
func TestHookPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []State
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, OnStateChange: func(c StateChange) {
			got = append(got, c.To)
			if c.To == Open {
				panic("hook")
			}
		}})
		stub := newStatusStub(500)
		rt := b.Wrap(stub)
		func() {
			defer func() {
				if recover() != "hook" {
					t.Error("the hook's panic did not reach the caller")
				}
			}()
			send(t.Context(), rt, "http://a.test/")
		}()
		time.Sleep(2 * time.Second)
		stub.status.Store(200)
		send(t.Context(), rt, "http://a.test/")
		if len(got) != 3 || got[1] != HalfOpen || got[2] != Closed {
			t.Errorf("transitions %v, want open half-open closed", got)
		}
	})
}

// TestHookQueueReentry: a transition recorded while the hook runs (the
// hook called StateOf, which noticed one) is delivered after the hook
// returns, not from inside it.
func TestHookQueueReentry(t *testing.T) {
	var q hookQueue
	var depth, maxDepth int
	var got []State
	var hook func(StateChange)
	hook = func(c StateChange) {
		depth++
		maxDepth = max(maxDepth, depth)
		got = append(got, c.To)
		if c.To == Open {
			q.record(StateChange{To: HalfOpen})
			q.flush(hook)
		}
		depth--
	}
	q.record(StateChange{To: Open})
	q.flush(hook)
	if maxDepth != 1 || len(got) != 2 || got[1] != HalfOpen {
		t.Errorf("depth %d, got %v", maxDepth, got)
	}
}
