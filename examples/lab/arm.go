package lab

import (
	"context"
	"net/http"
	"time"
)

// Arm is one client setup under test.
type Arm struct {
	// Name labels the arm in tables and plots.
	Name string
	// Wrap builds the arm's transport over base. It is called once per run,
	// so adaptive state (estimators, budgets) starts fresh.
	Wrap func(base http.RoundTripper) http.RoundTripper
	// Headline marks the arm a lab's first result line sets against the
	// first arm, the baseline. If no arm is marked, the last one.
	Headline bool
}

// Load says what to send.
type Load struct {
	N       int           // requests per arm
	Rate    float64       // mean arrivals per second
	Seed    uint64        // seeds the schedule and the server's draws
	Timeout time.Duration // per request; if zero, 30 s
	// Rounds splits the schedule into this many consecutive parts and runs
	// every arm's part 1, then every arm's part 2, and so on, each arm
	// keeping its transport (and its adaptive state) throughout. Noise from
	// the rest of the machine then lands on all arms alike instead of on
	// whichever ran during it. If zero, 1.
	Rounds int
}

// Result is one arm's outcome.
type Result struct {
	Name string
	Summary
	// Extra is extra attempts per request as the server counted them:
	// attempts received / requests − 1.
	Extra  float64
	Errors int
	Wall   time.Duration
	// Sorted holds every latency, ascending, for plotting.
	Sorted []time.Duration
}

// Upstream is what arms are compared against: a [Server], or a [Fleet]
// of replicas.
type Upstream interface {
	// URL is where requests are sent.
	URL() string
	// Transport returns a fresh client transport, for one arm.
	Transport() http.RoundTripper
	// Reset rewinds the draws (and the stall schedules) to seed and
	// zeroes the counters.
	Reset(seed uint64)
	// WaitIdle waits until no request is in flight, or timeout passes.
	WaitIdle(timeout time.Duration) bool
	// Stats returns the counters since the last Reset.
	Stats() ServerStats
}

// warmer is an [Upstream] whose connections are opened before an arm's
// first round (see [Fleet.Warm]).
type warmer interface {
	Warm(ctx context.Context, rt http.RoundTripper) error
}

// Compare runs every arm against srv with the same schedule and the same
// server draws, in load.Rounds interleaved rounds. progress, if not nil,
// counts finished requests.
func Compare(ctx context.Context, srv Upstream, load Load, arms []Arm, progress *Progress) []Result {
	if load.Timeout == 0 {
		load.Timeout = 30 * time.Second
	}
	parts := Split(Schedule(load.N, load.Rate, load.Seed), load.Rounds)

	type state struct {
		base     http.RoundTripper
		rt       http.RoundTripper
		attempts int64
		lat      []time.Duration
		errors   int
		wall     time.Duration
	}
	st := make([]state, len(arms))
	for i, arm := range arms {
		st[i].base = srv.Transport()
		st[i].rt = st[i].base
		if arm.Wrap != nil {
			st[i].rt = arm.Wrap(st[i].base)
		}
		if c, ok := st[i].base.(interface{ CloseIdleConnections() }); ok {
			defer c.CloseIdleConnections()
		}
		if w, ok := srv.(warmer); ok {
			_ = w.Warm(ctx, st[i].base) // a failure shows in the arm's own requests
		}
	}
	for r, rel := range parts {
		for i, arm := range arms {
			if ctx.Err() != nil {
				break
			}
			srv.WaitIdle(5 * time.Second)
			srv.Reset(load.Seed + uint64(r))
			progress.SetLabel(arm.Name)
			run := Drive(ctx, st[i].rt, srv.URL(), rel, load.Timeout, progress.Add1)
			srv.WaitIdle(5 * time.Second)
			st[i].attempts += srv.Stats().Attempts
			st[i].lat = append(st[i].lat, run.Latencies...)
			st[i].errors += run.Errors
			st[i].wall += run.Wall
		}
	}
	out := make([]Result, 0, len(arms))
	for i, arm := range arms {
		res := Result{Name: arm.Name, Summary: Summarize(st[i].lat), Errors: st[i].errors, Wall: st[i].wall, Sorted: st[i].lat}
		if n := len(st[i].lat); n > 0 {
			res.Extra = float64(st[i].attempts)/float64(n) - 1
		}
		out = append(out, res)
	}
	return out
}
