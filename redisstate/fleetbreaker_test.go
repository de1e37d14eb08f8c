package redisstate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
	"github.com/tailguard/tailguard/redisstate/internal/redisserver"
)

// TestFleetBreaker is the fleet-aware breaker's evidence with real OS
// processes (the fleetworker command) sharing one real redis-server, each
// sending through a breaker with the default configuration (quorum: half
// of the processes calling a host, at least 2; FleetPoll 1 s; OpenTimeout
// 5 s) to a loopback host that fails (503) for the processes the test
// picks, from t = 1 s. Two groups run side by side, each its own host key:
//
//   - one: four processes at 20 requests/s; the host fails for process 0
//     only. It opens there and in no other process;
//   - all: the host fails for every process. Processes 0 and 1 (20/s)
//     open on their own failures, which is the quorum; processes 2 and 3
//     send 2/s, too little to trip on their own failures for seconds, and
//     open on the fleet's word within one FleetPoll (plus the gap to their
//     next request) of the quorum. Process 3 exits at 3.3 s (its requests
//     at 2.5 and 3 s come after any poll due since the quorum: exiting at
//     2.5 s left it, when the quorum came late, no request that polled)
//     and is started again (process 4: a new process, its own name) at
//     3.5 s, inside the open period: its first request is refused unsent,
//     and the host never sees a request from it.
func TestFleetBreaker(t *testing.T) {
	if testing.Short() {
		t.Skip("a multi-process run")
	}
	redis := redisserver.Test(t)
	const sickFrom = time.Second
	up := fleetlab.NewHealthUpstream(func(group string, worker int, since time.Duration) bool {
		return since >= sickFrom && (group == "all" || worker == 0)
	})
	defer up.Close()
	const (
		duration = 5 * time.Second
		fast     = 20.0 // requests/s: trips on its own within 5 failures, 250 ms
		slow     = 2.0  // requests/s: 5 failures would take 2.5 s
	)
	var ws []fleetlab.Worker
	add := func(group string, id int, rate float64, delay, until time.Duration) {
		ws = append(ws, fleetlab.Worker{ID: id, Group: group, URL: up.URL(), Redis: redis.Addr(),
			Prefix: "tailguard:breaker-" + group + ":", Offered: rate, Duration: until, Delay: delay, Breaker: true})
	}
	for id := range 4 {
		add("one", id, fast, 0, duration)
	}
	add("all", 0, fast, 0, duration)
	add("all", 1, fast, 0, duration)
	add("all", 2, slow, 0, duration)
	add("all", 3, slow, 0, 3300*time.Millisecond)
	const restartAt = 3500 * time.Millisecond
	add("all", 4, slow, restartAt, duration)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	exe, err := fleetlab.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start, reps, err := fleetlab.Spawn(ctx, exe, nil, ws, up.Start)
	if err != nil {
		t.Fatal(err)
	}
	report := func(group string, id int) fleetlab.Report {
		for _, r := range reps {
			if r.Group == group && r.ID == id {
				return r
			}
		}
		t.Fatalf("no report of %s/%d", group, id)
		return fleetlab.Report{}
	}
	for _, r := range reps {
		var b strings.Builder
		for _, c := range r.Changes {
			fmt.Fprintf(&b, " %v %s→%s (%s);", c.At.Round(time.Millisecond), c.From, c.To, c.Reason)
		}
		t.Logf("%s/%d: %d requests, %d refused; changes:%s", r.Group, r.ID, len(r.Requests), outcomes(r, fleetlab.Refused), b.String())
		for _, q := range r.Requests {
			if q.Outcome == fleetlab.Failed {
				t.Errorf("%s/%d: caller error at %v: %s", r.Group, r.ID, q.At, q.Err)
			}
		}
	}

	// one: the host fails for process 0 alone.
	if c := firstOpen(report("one", 0)); c == nil || c.Reason != "failures" {
		t.Errorf("one/0: the host failing for it did not open its breaker on its failures: %+v", c)
	}
	for id := 1; id < 4; id++ {
		r := report("one", id)
		if len(r.Changes) > 0 || outcomes(r, fleetlab.Refused) > 0 || outcomes(r, fleetlab.OK) != len(r.Requests) {
			t.Errorf("one/%d: one process's failures changed another: changes %+v, %d refused, %d of %d OK",
				id, r.Changes, outcomes(r, fleetlab.Refused), outcomes(r, fleetlab.OK), len(r.Requests))
		}
	}

	// all: the quorum is reached when the second process reports open.
	var own []time.Duration
	for id := range 4 {
		if c := firstOpen(report("all", id)); c != nil && c.Reason == "failures" {
			own = append(own, c.At)
		}
	}
	if len(own) < 2 {
		t.Fatalf("all: %d processes opened on their own failures, want the two fast ones", len(own))
	}
	quorum := max(own[0], own[1])
	for id := range 4 {
		r := report("all", id)
		c := firstOpen(r)
		if c == nil {
			t.Errorf("all/%d: never opened", id)
			continue
		}
		gap := time.Duration(float64(time.Second) / []float64{fast, fast, slow, slow}[id])
		// One FleetPoll, plus the gap to the request that polls, plus 250
		// ms for a loaded machine to wake a worker and run its request.
		bound := quorum + breaker.DefaultFleetPoll + gap + 250*time.Millisecond
		t.Logf("all/%d opened %v after the quorum (%s), bound %v", id, (c.At - quorum).Round(time.Millisecond), c.Reason, bound-quorum)
		if c.At > bound {
			t.Errorf("all/%d opened at %v, %v after the quorum; want within %v", id, c.At, c.At-quorum, bound-quorum)
		}
		if id >= 2 && c.Reason != "fleet" {
			t.Errorf("all/%d (2 requests/s) opened by %q, want by the fleet's quorum", id, c.Reason)
		}
	}

	// all/4, started during the open period, starts open.
	r := report("all", 4)
	if len(r.Requests) == 0 || r.Requests[0].Outcome != fleetlab.Refused {
		t.Errorf("all/4, started at %v during the open period: first request %+v, want refused unsent", restartAt, r.Requests)
	}
	if len(r.Changes) == 0 || r.Changes[0].To != "open" || r.Changes[0].Reason != "fleet" {
		t.Errorf("all/4: first state change %+v, want closed→open on the fleet's word", r.Changes)
	}
	for _, a := range up.Arrivals() {
		if a.Group == "all" && a.Worker == 4 {
			t.Errorf("all/4: the host received a request from it at %v, inside the open period", a.At.Sub(start))
			break
		}
	}
}

// firstOpen returns r's first change to open, nil if none.
func firstOpen(r fleetlab.Report) *fleetlab.Change {
	for i, c := range r.Changes {
		if c.To == "open" {
			return &r.Changes[i]
		}
	}
	return nil
}

// outcomes returns how many of r's requests ended with o.
func outcomes(r fleetlab.Report, o fleetlab.Outcome) int {
	n := 0
	for _, q := range r.Requests {
		if q.Outcome == o {
			n++
		}
	}
	return n
}
