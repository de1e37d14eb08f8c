package quota

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/tailguard/tailguard/examples/lab"
)

// Net is how an arm reaches its server.
type Net int

const (
	// Loopback serves each arm from its own httptest server on 127.0.0.1,
	// through a fresh keep-alive transport ([lab.NewTransport]).
	Loopback Net = iota
	// InMemory serves each arm through [lab.InMemory]: no sockets, so a
	// testing/synctest bubble's fake clock drives the whole run.
	InMemory
)

// Compare runs every arm against its own [Server] built from cfg (so each
// arm has the quota to itself), each with load's schedule, and returns
// what each achieved, in arms' order. With parallel set the arms run side
// by side, so noise from the rest of the machine lands on all alike; on
// loopback that multiplies the lab's own load (six arms offering 300/s
// and retrying are thousands of loopback requests a second), which on a
// small machine distorts what it measures, so the lab commands run the
// arms one after another there. progress, if not nil, counts finished
// requests.
func Compare(ctx context.Context, cfg Config, load Load, arms []lab.Arm, net Net, parallel bool, progress *lab.Progress) ([]Result, error) {
	load, err := load.normalize()
	if err != nil {
		return nil, err
	}
	sched := load.Schedule()
	out := make([]Result, len(arms))
	var wg sync.WaitGroup
	for i, arm := range arms {
		srv := New(cfg) // before the goroutine: an invalid cfg panics here
		run := func() {
			url, base, stop := connect(srv, net)
			defer stop()
			rt := base
			if arm.Wrap != nil {
				rt = arm.Wrap(base)
			}
			srv.Reset()
			got := lab.Drive(ctx, rt, url, sched, load.Timeout, progress.Add1)
			arrivals, start := srv.Arrivals()
			out[i] = analyze(arm.Name, srv, load, sched, got, arrivals, start)
		}
		if parallel {
			wg.Go(run)
		} else if ctx.Err() == nil {
			progress.SetLabel(cfg.Dialect.String() + ": " + arm.Name)
			run()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// connect returns the URL and base transport that reach srv over net, and
// a function that closes them.
func connect(srv *Server, net Net) (url string, base http.RoundTripper, stop func()) {
	if net == InMemory {
		return "http://quota.invalid/", lab.InMemory(srv), func() {}
	}
	hs := httptest.NewServer(srv)
	tr := lab.NewTransport()
	return hs.URL + "/", tr, func() {
		tr.CloseIdleConnections()
		hs.Close()
	}
}
