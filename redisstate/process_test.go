package redisstate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/examples/lab/quota"
	"github.com/tailguard/tailguard/redisstate"
	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
	"github.com/tailguard/tailguard/redisstate/internal/redisserver"
)

// The fleet tests run real OS processes (the fleetworker command, built
// without the race detector: the workers play production processes)
// against the quota lab's server (examples/lab/quota: 100 requests/s per
// key in bursts of 10, IETF headers), itself in a process of its own (see
// fleetlab.StartUpstream), which judges each request at the instant its
// worker sent it (see fleetlab.SentHeader). Each group of processes has
// its own quota key; each test runs only the groups it compares, so that
// what one measures is not the load of another. Each worker offers
// 100 requests/s, open loop (Poisson), through a throttle configured as a
// user who knows the quota would: Rate 97/s (3% below the quota, which
// lets the upstream's burst refill and absorb jitter), MaxWait 250 ms, and
// the store's default bound on each call to Redis (5 ms) but in the quota
// runs (see fleetQuotaTimeout).
const (
	fleetWorkers  = 4
	fleetDuration = 20 * time.Second
	fleetPause    = 5 * time.Second
	fleetMaxWait  = 250 * time.Millisecond
)

// fleet is one fleet test's processes.
type fleet struct {
	t   *testing.T
	exe string
	up  *fleetlab.Upstream
	q   float64 // the quota, requests per second
	ws  []fleetlab.Worker
	// timeout bounds each call to Redis (0: redisstate.DefaultTimeout).
	timeout time.Duration
}

// newFleet builds the worker command and starts the upstream.
func newFleet(t *testing.T) *fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("a multi-process run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	exe, err := fleetlab.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	up, err := fleetlab.StartUpstream(context.Background(), exe, quota.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Close)
	return &fleet{t: t, exe: exe, up: up, q: up.Limit().PerSecond()}
}

// group adds fleetWorkers workers offering the quota each for d: through
// a throttle at 97% of the quota sharing state through the Redis at
// redis ("" for local-only throttles), or, if naive, through a plain
// token bucket at the quota.
func (f *fleet) group(name, redis string, d time.Duration, naive bool) {
	for i := range fleetWorkers {
		w := fleetlab.Worker{ID: i, Group: name, URL: f.up.URL(), Redis: redis, Prefix: "tailguard:" + name + ":",
			Rate: 0.97 * f.q, Offered: f.q, Duration: d, MaxWait: fleetMaxWait, Timeout: f.timeout,
			Seed: uint64(len(f.ws) + 1)}
		if naive {
			w.Naive, w.Rate = true, f.q
		}
		f.ws = append(f.ws, w)
	}
}

// run runs the groups added so far and returns their start, reports and
// the upstream's log. started, if non-nil, is called with the start
// before it comes, to schedule faults.
func (f *fleet) run(started func(time.Time)) (time.Time, []fleetlab.Report, []fleetlab.Arrival) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start, reps, err := fleetlab.Spawn(ctx, f.exe, nil, f.ws, started)
	if err != nil {
		f.t.Fatal(err)
	}
	return start, reps, f.up.Arrivals()
}

// table logs ms as a Markdown table.
func (f *fleet) table(ms ...fleetlab.Measures) {
	var b strings.Builder
	fleetlab.WriteTable(&b, ms)
	f.t.Logf("quota %.0f/s per group, %d processes per group\n%s", f.q, fleetWorkers, b.String())
}

// noCallerErrors fails the test for any request that ended with a caller
// error: neither a response nor a throttle's refusal.
func noCallerErrors(t *testing.T, ms ...fleetlab.Measures) {
	for _, m := range ms {
		if m.Failed > 0 {
			t.Errorf("%s, %s: %d caller errors", m.Group, m.Phase, m.Failed)
		}
	}
}

// callBound is the bound the tests hold each call to Redis to, as a
// worker measures it: the store's bound (redisstate.DefaultTimeout), plus
// what a loaded 2-core machine may take to run the caller again once the
// bound has passed (a worker was descheduled for 0.6 s at load 17, and a
// call measured 287 ms at load 12). Without the bound a call to a dead or
// hung Redis would take go-redis's 5 s read timeout.
const callBound = redisstate.DefaultTimeout + 2*time.Second

// boundedCalls fails the test for a call to Redis longer than callBound.
func boundedCalls(t *testing.T, ms ...fleetlab.Measures) {
	for _, m := range ms {
		if m.LongestCall > callBound {
			t.Errorf("%s, %s: a call to Redis took %v, bound %v", m.Group, m.Phase, m.LongestCall, callBound)
		}
	}
}

// fleetSteady is when a fleet run's steady phase begins: before it the
// processes have just started (their first requests to a new host wait
// for its first answer, connections to Redis and the upstream are still
// being dialled), and the targets are about the fleet sharing a
// quota, not about its processes starting.
const fleetSteady = 2 * time.Second

// The quota run's phases.
var (
	fleetStart       = fleetlab.Phase{Name: "0-2 s, starting", To: fleetSteady}
	fleetSteadyPhase = fleetlab.Phase{Name: "2-20 s, steady", From: fleetSteady, To: fleetDuration}
	fleetWhole       = fleetlab.Phase{Name: "0-20 s", To: fleetDuration}
)

// fleetQuotaTimeout bounds each call to Redis in the quota runs. The
// quota run measures sharing with Redis up; the default bound (5 ms) is
// the fault run's subject. On the 2-core machine, at the load of other
// engineers' test runs, redis-server is descheduled for longer than 5 ms
// several times a second: calls fail for every process at once, each
// falls back to its share beside the turns the others still get (see
// docs/scaling-out.md, consistency), and a run had up to two 1 s pauses.
// 50 ms keeps such a moment from counting as Redis failing.
const fleetQuotaTimeout = 50 * time.Millisecond

// TestFleetQuota is the multi-process quota run: 4 processes
// share one quota of 100 requests/s through Redis, each offering
// 100 requests/s, for 20 s. The targets, over the steady phase: at
// most 1% of the requests answered 429, goodput at least 95% of the quota,
// each process's share of the 200s 25% ± 10%. (With throttles at 97/s,
// goodput cannot exceed 97%.)
//
// The machine is part of the run: the workers, the upstream and Redis
// share 2 cores with everything else, and every one of them is
// descheduled now and then. Two mechanisms keep that from bunching the
// fleet's requests into a burst the upstream refuses (each such burst
// cost the fleet a 1 s pause, 5% of the run): a request that wakes too
// late for its turn in the fleet's schedule asks again, and a process
// that falls back to local state paces its share only after its last
// turn (see throttle's TestSharedMissedTurn, TestSharedFallbackAfterTurns).
func TestFleetQuota(t *testing.T) {
	redis := redisserver.Test(t)
	f := newFleet(t)
	f.timeout = fleetQuotaTimeout
	f.group("shared", redis.Addr(), fleetDuration, false)
	start, reps, arr := f.run(nil)
	steady := fleetlab.Analyze("shared", fleetSteadyPhase, start, f.q, arr, reps)
	ms := []fleetlab.Measures{
		fleetlab.Analyze("shared", fleetStart, start, f.q, arr, reps),
		steady,
		fleetlab.Analyze("shared", fleetWhole, start, f.q, arr, reps),
	}
	f.table(ms...)
	_, ok, _ := fleetlab.PerSecond("shared", start, int(fleetDuration/time.Second), arr)
	t.Logf("200s per second: %v", ok)
	defer func() {
		if t.Failed() {
			diag(t, "shared", start, arr, reps)
		}
	}()
	noCallerErrors(t, ms...)
	boundedCalls(t, ms...)
	for w, sh := range steady.Shares {
		if sh < 0.15 || sh > 0.35 {
			t.Errorf("worker %d had %.1f%% of the 200s, want 25%% ± 10%%", w, 100*sh)
		}
	}
	if o := ms[2].Overshoot(); o > 1.0 {
		t.Errorf("the fleet sent %.2f× the quota, want at most it", o)
	}
	if p := steady.ThrottledPercent(); p > 1 {
		t.Errorf("%.2f%% of requests answered 429, want ≤ 1%%", p)
	}
	// Goodput, of the time the machine ran the workers: a worker that is
	// descheduled misses the turns it holds in the fleet's schedule, which
	// are lost (the fleet never sends them late, as a burst), and at the
	// load of other engineers' test runs the machine took 1-3% of the run
	// from each worker. fleetlab measures it in each worker (a ticker's
	// ticks more than 20 ms late, the slack of a turn); the table shows
	// both.
	if g := steady.RunningGoodput(); g < 95 {
		t.Errorf("goodput %.1f%% of the quota over the time the workers ran (%.1f%% of the phase; workers stalled %v), want ≥ 95%%",
			g, steady.Goodput(), steady.Stalled)
	}
	if down := fleetlab.Lines("shared", reps, "event=shared_unavailable"); len(down) > 0 {
		t.Errorf("outages logged while Redis was up:\n%s", strings.Join(down, "\n"))
	}
}

// TestFleetBaselines runs three fleets of 4 processes side by side, each
// with its own quota of 100/s (its own key) on the one upstream, each
// process offering 100/s: naive, each process pacing itself at the
// configured quota with a plain token bucket (x/time/rate at 100/s) and
// learning nothing, as a user who configures every pod with the API key's
// quota would (the baseline: ≈ 4× the quota, mostly 429s); local,
// tailguard throttles at 97/s without sharing, which learn the upstream's
// pauses from its headers and so do not overshoot, but stampede in turn
// and lose much of the quota to pauses; and shared, the same throttles
// sharing the quota through Redis. Same run, same machine, same load: the
// comparison holds whatever the load.
func TestFleetBaselines(t *testing.T) {
	redis := redisserver.Test(t)
	f := newFleet(t)
	f.timeout = fleetQuotaTimeout
	f.group("naive", "", fleetDuration, true)
	f.group("local", "", fleetDuration, false)
	f.group("shared", redis.Addr(), fleetDuration, false)
	start, reps, arr := f.run(nil)
	naive := fleetlab.Analyze("naive", fleetSteadyPhase, start, f.q, arr, reps)
	local := fleetlab.Analyze("local", fleetSteadyPhase, start, f.q, arr, reps)
	shared := fleetlab.Analyze("shared", fleetSteadyPhase, start, f.q, arr, reps)
	f.table(naive, local, shared)
	noCallerErrors(t, naive, local, shared)
	if o := naive.Overshoot(); o < 3.5 {
		t.Errorf("naive: the fleet sent %.2f× the quota, want ≈ 4×", o)
	}
	if p := naive.ThrottledPercent(); p < 60 {
		t.Errorf("naive: %.1f%% answered 429, want most", p)
	}
	if o := local.Overshoot(); o > 1.05 {
		t.Errorf("local: the fleet sent %.2f× the quota; local throttles learn its pauses", o)
	}
	// Sharing: the naive fleet gets its quota's worth of 200s too, by
	// sending four times the quota and living on 429s; the shared one
	// sends at most the quota, with at most a tenth of the naive fleet's
	// 429 rate (0-0.2% against 70-75% in our runs), and far more goodput
	// than the local-only throttles.
	if o := shared.Overshoot(); o > 1.0 {
		t.Errorf("shared: the fleet sent %.2f× the quota, want at most it", o)
	}
	if p, n := shared.ThrottledPercent(), naive.ThrottledPercent(); p > n/10 {
		t.Errorf("shared: %.2f%% answered 429, naive %.2f%%: want at most a tenth of it", p, n)
	}
	if g, l := shared.Goodput(), local.Goodput(); g < 2*l {
		t.Errorf("shared: goodput %.1f%%, local-only %.1f%%: want at least twice it", g, l)
	}
}

// TestFleetFault is the fault run: the quota run with
// redis-server killed at t = 5 s and restarted at t = 10 s. No request
// fails because of Redis, no call to it stalls beyond the bound, each
// process paces at its share of the quota while it is down, and each
// logs the outage once and its end once.
func TestFleetFault(t *testing.T) {
	redis := redisserver.Test(t)
	f := newFleet(t)
	f.group("fault", redis.Addr(), fleetDuration, false)
	restarted := make(chan error, 1)
	start, reps, arr := f.run(func(start time.Time) {
		go func() {
			time.Sleep(time.Until(start.Add(5 * time.Second)))
			redis.Kill()
			time.Sleep(time.Until(start.Add(10 * time.Second)))
			restarted <- redis.Restart()
		}()
	})
	if err := <-restarted; err != nil {
		t.Fatalf("restart redis: %v", err)
	}
	var ms []fleetlab.Measures
	for _, p := range fleetPhases {
		ms = append(ms, fleetlab.Analyze("fault", p, start, f.q, arr, reps))
	}
	f.table(ms...)
	noCallerErrors(t, ms...)
	boundedCalls(t, ms...)
	if down := ms[1]; down.Overshoot() > 1.5 {
		t.Errorf("Redis down: the fleet sent %.2f× the quota; each process should pace at its share", down.Overshoot())
	}
	down := fleetlab.Lines("fault", reps, "event=shared_unavailable")
	resumed := fleetlab.Lines("fault", reps, "event=shared_resumed")
	t.Logf("outages logged:\n%s\n%s", strings.Join(down, "\n"), strings.Join(resumed, "\n"))
	// Each outage is logged once when it begins and once when it ends; the
	// kill is one (with the default 5 ms bound a loaded machine may add a
	// spell of its own, logged the same way).
	for w := range fleetWorkers {
		if d, r := count(down, w), count(resumed, w); d == 0 || r != d {
			t.Errorf("worker %d logged %d outages and %d resumptions; want each outage logged once and its end once", w, d, r)
		}
	}
}

// fleetPhases are the fault run's phases.
var fleetPhases = []fleetlab.Phase{
	{Name: "0-5 s, Redis up", From: 0, To: 5 * time.Second},
	{Name: "5-10 s, Redis killed", From: 5 * time.Second, To: 10 * time.Second},
	{Name: "10-20 s, Redis restarted", From: 10 * time.Second, To: fleetDuration},
}

// TestFleetPause: one process of four is answered "429, Retry-After: 5"
// at t = 3 s; every process stops within 50 ms.
func TestFleetPause(t *testing.T) {
	redis := redisserver.Test(t)
	f := newFleet(t)
	f.group("pause", redis.Addr(), 10*time.Second, false)
	start, reps, arr := f.run(func(start time.Time) {
		go func() {
			time.Sleep(time.Until(start.Add(3 * time.Second)))
			f.up.Inject("pause", 0, fleetPause)
		}()
	})
	prop, late, ok := fleetlab.Propagation("pause", arr, fleetPause, 50*time.Millisecond)
	defer func() {
		if t.Failed() {
			diag(t, "pause", start, arr, reps)
		}
	}()
	// Each process records the pause in the decision vocabulary, as the
	// local throttle does: paused, reason pushback in the process that
	// received the 429, reason fleet in those that learned it from Redis.
	paused := fleetlab.Lines("pause", reps, "event=paused")
	t.Logf("pauses recorded:\n%s", strings.Join(paused, "\n"))
	for w := range fleetWorkers {
		want := "reason=fleet"
		if w == 0 {
			want = "reason=pushback"
		}
		if !slices.ContainsFunc(paused, func(l string) bool {
			_, wait, _ := strings.Cut(l, " wait=")
			d, err := time.ParseDuration(strings.Fields(wait + " ")[0])
			return strings.HasPrefix(l, fmt.Sprintf("worker %d:", w)) && strings.Contains(l, want) && err == nil && d > fleetPause-time.Second
		}) {
			t.Errorf("worker %d recorded no paused event with %s for the 5 s pause", w, want)
		}
	}
	if !ok {
		t.Fatal("the pause was never injected")
	}
	t.Logf("the last request arrived %v after the 429 that asked for a 5 s pause; %d arrived later than 50 ms into it", prop, late)
	// A process whose call to Redis fails during the pause does not learn
	// it and may send on its local share: on a loaded machine, one or two.
	if late > 2 {
		t.Errorf("%d requests arrived more than 50 ms into the pause (the last %v in), want all processes stopped", late, prop)
	}
}

// count returns how many of lines come from worker.
func count(lines []string, worker int) int {
	n := 0
	prefix := fmt.Sprintf("worker %d:", worker)
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
