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
}

// Load says what to send.
type Load struct {
	N       int           // requests per arm
	Rate    float64       // mean arrivals per second
	Seed    uint64        // seeds the schedule and the server's draws
	Timeout time.Duration // per request; if zero, 30 s
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

// Compare runs each arm in turn against srv with the same schedule and the
// same server draws. progress, if not nil, counts finished requests.
func Compare(ctx context.Context, srv *Server, load Load, arms []Arm, progress *Progress) []Result {
	if load.Timeout == 0 {
		load.Timeout = 30 * time.Second
	}
	sched := Schedule(load.N, load.Rate, load.Seed)
	out := make([]Result, 0, len(arms))
	for _, arm := range arms {
		if ctx.Err() != nil {
			break
		}
		srv.WaitIdle(5 * time.Second)
		srv.Reset(load.Seed)
		base := NewTransport()
		var wrapped http.RoundTripper = base
		if arm.Wrap != nil {
			wrapped = arm.Wrap(base)
		}
		progress.SetLabel(arm.Name)
		run := Drive(ctx, wrapped, srv.URL(), sched, load.Timeout, progress.Add1)
		srv.WaitIdle(5 * time.Second)
		base.CloseIdleConnections()
		st := srv.Stats()
		res := Result{Name: arm.Name, Summary: Summarize(run.Latencies), Errors: run.Errors, Wall: run.Wall}
		res.Sorted = run.Latencies
		if n := len(run.Latencies); n > 0 {
			res.Extra = float64(st.Attempts)/float64(n) - 1
		}
		out = append(out, res)
	}
	return out
}
