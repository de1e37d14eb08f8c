package lab

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	a := Schedule(20_000, 1000, 9)
	b := Schedule(20_000, 1000, 9)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different schedule")
	}
	if !slices.IsSorted(a) || a[0] != 0 {
		t.Fatalf("schedule not ascending from 0: %v…", a[:3])
	}
	// 20,000 arrivals at 1000/s span ≈ 20 s (Poisson: ±0.7%·√… ≈ ±1.5% at 2σ).
	span := a[len(a)-1].Seconds()
	if math.Abs(span-20) > 0.6 {
		t.Errorf("span = %.2fs, want ≈ 20s", span)
	}
}

func TestDriveOpenLoop(t *testing.T) {
	// A server that takes 50 ms: 10 requests 5 ms apart must all be in
	// flight together, so the run lasts ≈ 95 ms, not 500.
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
	}))
	defer s.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	sched := make([]time.Duration, 10)
	for i := range sched {
		sched[i] = time.Duration(i) * 5 * time.Millisecond
	}
	var done atomic.Int64
	run := Drive(context.Background(), tr, s.URL, sched, 5*time.Second, func() { done.Add(1) })
	if done.Load() != 10 {
		t.Errorf("done called %d times, want 10", done.Load())
	}
	if run.Errors != 0 || slices.Contains(run.Failed, true) || len(run.Failed) != 10 {
		t.Fatalf("%d errors, Failed = %v", run.Errors, run.Failed)
	}
	if run.Wall > 400*time.Millisecond {
		t.Errorf("run took %v: requests were not sent open-loop", run.Wall)
	}
	for i, l := range run.Latencies {
		if l < 50*time.Millisecond {
			t.Errorf("latency[%d] = %v < server time 50ms", i, l)
		}
	}
}

func TestDriveCountsErrors(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer s.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	run := Drive(context.Background(), tr, s.URL, []time.Duration{0, time.Millisecond, 2 * time.Millisecond}, time.Second, nil)
	if run.Errors != 3 || len(run.Latencies) != 3 {
		t.Errorf("errors = %d of %d, want 3 of 3", run.Errors, len(run.Latencies))
	}
	if !slices.Equal(run.Failed, []bool{true, true, true}) {
		t.Errorf("Failed = %v, want all three", run.Failed)
	}
}

func TestDriveStopsOnCancel(t *testing.T) {
	s := NewServer(D1, 1, 0)
	defer s.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	run := Drive(ctx, tr, s.URL(), []time.Duration{0, time.Hour}, time.Second, nil)
	if len(run.Latencies) != 1 {
		t.Errorf("got %d latencies, want 1 (the second was never due)", len(run.Latencies))
	}
}

func TestSplit(t *testing.T) {
	ms := time.Millisecond
	sched := []time.Duration{0, 3 * ms, 5 * ms, 9 * ms, 10 * ms}
	got := Split(sched, 2)
	want := [][]time.Duration{{0, 3 * ms}, {0, 4 * ms, 5 * ms}}
	if len(got) != len(want) || !slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1]) {
		t.Errorf("Split(2) = %v, want %v (each round from its own zero)", got, want)
	}
	if got := Split(sched, 0); len(got) != 1 || !slices.Equal(got[0], sched) {
		t.Errorf("Split(0) = %v, want one round", got)
	}
	if got := Split(sched, 9); len(got) != len(sched) {
		t.Errorf("Split(9) has %d rounds, want at most one per request", len(got))
	}
	if got := Split(nil, 3); len(got) != 0 {
		t.Errorf("Split(nil) = %v", got)
	}
}

// Every request Drive sends carries its index in the schedule, and so does
// every clone a stage makes of it.
func TestDriveRequestIndex(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer s.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	var seen [5]atomic.Int64
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		clone := req.Clone(context.WithoutCancel(req.Context()))
		if i, ok := RequestIndex(clone.Context()); ok && i >= 0 && i < len(seen) {
			seen[i].Add(1)
		}
		return tr.RoundTrip(req)
	})
	Drive(context.Background(), rt, s.URL, make([]time.Duration, len(seen)), 5*time.Second, nil)
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Errorf("request %d seen %d times, want 1", i, n)
		}
	}
	if _, ok := RequestIndex(context.Background()); ok {
		t.Error("an index outside Drive")
	}
}
