package lab

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestCompareSameDrawsPerArm(t *testing.T) {
	var log drawLog
	srv := NewServer(log.record(D1), 1, 0)
	defer srv.Close()
	// Two identical bare arms see the same draws; the double arm draws
	// twice per request.
	twice := func(base http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r.Clone(r.Context()))
			if err == nil {
				resp.Body.Close()
			}
			return base.RoundTrip(r)
		})
	}
	res := Compare(context.Background(), srv, Load{N: 200, Rate: 2000, Seed: 4},
		[]Arm{{Name: "a"}, {Name: "b"}, {Name: "double", Wrap: twice}}, nil)
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.N != 200 || r.Errors != 0 {
			t.Errorf("%s: n=%d errors=%d", r.Name, r.N, r.Errors)
		}
	}
	if res[0].Extra != 0 || res[1].Extra != 0 {
		t.Errorf("bare arms have extra %v, %v; want 0", res[0].Extra, res[1].Extra)
	}
	if res[2].Extra != 1 {
		t.Errorf("double arm extra = %v, want 1 (two attempts per request)", res[2].Extra)
	}
	draws := log.split(t, 200, 200, 400)
	sameDraws(t, "a and b", draws[0], draws[1])
	sawStalls(t, res[0], draws[0])
	sawStalls(t, res[1], draws[1])
}

// drawLog keeps every latency a [Server] draws, in the order drawn. The
// server draws each request's latency on arrival, and Compare runs one
// arm's requests to the end before the next arm's, so the log splits into
// each arm's draws. What an arm drew is compared, not the latencies it
// measured: on a loaded machine a 10 ms draw can take a second to arrive
// (80 of 200 requests in one run), and a count of slow latencies then says
// nothing about the draws.
type drawLog struct {
	mu    sync.Mutex // guards draws
	draws []time.Duration
}

// record returns d, drawing through the log.
func (l *drawLog) record(d Dist) Dist {
	return Dist{Name: d.Name, About: d.About, sample: func(r *rand.Rand) time.Duration {
		v := d.Sample(r)
		l.mu.Lock()
		l.draws = append(l.draws, v)
		l.mu.Unlock()
		return v
	}}
}

// split cuts the log into consecutive parts of the given sizes, which
// must add up to its length.
func (l *drawLog) split(t *testing.T, sizes ...int) [][]time.Duration {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total != len(l.draws) {
		t.Fatalf("the server drew %d latencies, want %d", len(l.draws), total)
	}
	parts := make([][]time.Duration, len(sizes))
	for i, n := range sizes {
		parts[i], l.draws = l.draws[:n], l.draws[n:]
	}
	return parts
}

// sameDraws fails unless x and y hold the same latencies: concurrent
// requests arrive in any order, so the order may differ.
func sameDraws(t *testing.T, what string, x, y []time.Duration) {
	t.Helper()
	x, y = slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y))
	if !slices.Equal(x, y) {
		t.Errorf("arms %s drew different latencies: %d stalls and %d", what, countStalls(x), countStalls(y))
	}
}

// sawStalls fails unless r measured at least as many stalls as its draws
// hold: a request cannot answer sooner than its draw, however fast the
// machine.
func sawStalls(t *testing.T, r Result, draws []time.Duration) {
	t.Helper()
	if got, want := stalls(r), countStalls(draws); got < want {
		t.Errorf("%s measured %d stalls, drew %d", r.Name, got, want)
	}
}

func stalls(r Result) int { return countStalls(r.Sorted) }

func countStalls(ls []time.Duration) int {
	n := 0
	for _, l := range ls {
		if l.Seconds() >= 0.9 {
			n++
		}
	}
	return n
}

func TestCompareRounds(t *testing.T) {
	var log drawLog
	srv := NewServer(log.record(D1), 1, 0)
	defer srv.Close()
	res := Compare(context.Background(), srv, Load{N: 100, Rate: 2000, Seed: 4, Rounds: 3},
		[]Arm{{Name: "a"}, {Name: "b"}}, nil)
	for _, r := range res {
		if r.N != 100 || r.Extra != 0 || r.Errors != 0 {
			t.Errorf("%s: n=%d extra=%v errors=%d", r.Name, r.N, r.Extra, r.Errors)
		}
	}
	// Rounds of 33, 33 and 34 requests, each run by a, then b.
	draws := log.split(t, 33, 33, 33, 33, 34, 34)
	var a, b []time.Duration
	for r := 0; r < len(draws); r += 2 {
		sameDraws(t, "a and b in round "+strconv.Itoa(r/2+1), draws[r], draws[r+1])
		a, b = append(a, draws[r]...), append(b, draws[r+1]...)
	}
	sawStalls(t, res[0], a)
	sawStalls(t, res[1], b)
}
