package fleetlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/examples/lab/quota"
	"github.com/tailguard/tailguard/redisstate"
	"github.com/tailguard/tailguard/throttle"
)

// Worker is one process of a run: what it offers, to whom, through which
// throttle.
type Worker struct {
	ID    int
	Group string // the group's name, which is also its quota key
	URL   string
	// Redis is the address of the Redis the worker's throttle shares its
	// state through; empty for a local-only throttle.
	Redis  string
	Prefix string // the store's key prefix
	// Rate and Burst configure the throttle's pace: the quota, as a user
	// who knows it would set it.
	Rate  float64
	Burst int
	// Offered is the worker's open-loop load, requests per second.
	Offered  float64
	Start    time.Time // when the first request may go
	Duration time.Duration
	// MaxWait is the throttle's MaxWait: how long a request may wait for
	// the quota before it is rejected locally, unsent.
	MaxWait time.Duration
	// Timeout is the store's bound on each call to Redis (0: its default).
	Timeout time.Duration
	Seed    uint64

	// Breaker makes the worker send through a breaker that shares its
	// view through Redis (breaker.Config.Fleet) instead of a throttle,
	// Offered requests per second evenly spaced; see [RunBreaker].
	Breaker bool
	// Naive makes the worker pace with a plain token bucket at Rate and
	// nothing else (see naive): the baseline of processes that each pace
	// at the configured quota. Redis is ignored.
	Naive bool
	// Delay starts the worker's process this long after the run's start
	// (a breaker worker only): it connects to Redis and builds its breaker
	// then, as a process (re)started then would.
	Delay time.Duration
}

// Outcome is how one request ended.
type Outcome int8

const (
	OK        Outcome = iota // 200
	Throttled                // the upstream answered 429
	Rejected                 // the throttle refused it, unsent (throttle.ErrThrottled)
	Failed                   // anything else: a caller error
	Refused                  // the breaker refused it, unsent (breaker.ErrOpen)
	Unhealthy                // the upstream answered 503 (a breaker worker's sick host)
)

// Request is one request's fate, as its worker saw it.
type Request struct {
	At      time.Duration // intended send time, from Start
	Outcome Outcome
	Latency time.Duration // from the intended send time to the answer
	Err     string        `json:",omitempty"` // for Failed
}

// Call is one call of the throttle to the shared store.
type Call struct {
	At     time.Duration // from Start
	Took   time.Duration
	Failed bool
}

// Report is everything a worker saw.
type Report struct {
	ID       int
	Group    string
	Requests []Request
	Calls    []Call
	Logs     []string // the throttle's (or breaker's) log lines
	Stats    throttle.Stats
	// Stalls are the spans during which the worker's process did not run
	// (see stallMeter).
	Stalls []Span
	// Changes are a breaker worker's state changes, as its decision log
	// recorded them.
	Changes []Change
}

// Run runs w in this process and returns its report.
//
// ready, if non-nil, is called once the worker is set up (connected to
// Redis, client built) and returns the instant the run starts, which
// replaces w.Start: a process that took long to start on a loaded machine
// then does not open with a backlog of requests all due at once.
func Run(ctx context.Context, w Worker, ready func() (time.Time, error)) (Report, error) {
	if w.Breaker {
		return RunBreaker(ctx, w, ready)
	}
	rep := Report{ID: w.ID, Group: w.Group}
	logs := &lines{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	calls := &calls{}
	cfg := throttle.Config{Rate: rate.Limit(w.Rate), Burst: w.Burst, MaxWait: w.MaxWait, Logger: logger}
	if w.Redis != "" && !w.Naive {
		// A few idle connections kept warm, so that a burst of requests
		// does not dial Redis under the 5 ms bound of each call.
		rdb := redis.NewClient(&redis.Options{Addr: w.Redis, ContextTimeoutEnabled: true, MinIdleConns: 4})
		defer rdb.Close()
		store := redisstate.New(rdb, redisstate.Config{
			Prefix:  w.Prefix,
			Timeout: w.Timeout,
			Process: w.Group + "-" + strconv.Itoa(w.ID),
		})
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := store.Ready(rctx)
		cancel()
		if err != nil {
			return rep, err
		}
		cfg.Shared = calls.wrap(store)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	defer tr.CloseIdleConnections()
	th := throttle.New(cfg)
	client := &http.Client{Transport: th.Wrap(stamp{tr})}
	if w.Naive {
		client = &http.Client{Transport: newNaive(w, stamp{tr})}
	}

	if ready != nil {
		start, err := ready()
		if err != nil {
			return rep, err
		}
		w.Start = start
	}
	calls.start = w.Start
	meter := startStallMeter(w.Start)
	sched := schedule(w)
	rep.Requests = make([]Request, len(sched))
	var wg sync.WaitGroup
	for i, off := range sched {
		if err := sleepUntil(ctx, w.Start.Add(off)); err != nil {
			break
		}
		wg.Go(func() { rep.Requests[i] = send(ctx, client, w, off) })
	}
	wg.Wait()
	rep.Stalls = meter.end()
	rep.Calls = calls.all()
	rep.Logs = logs.all()
	rep.Stats = th.Stats()
	return rep, ctx.Err()
}

// schedule returns w's Poisson send offsets within its Duration.
func schedule(w Worker) []time.Duration {
	mean := w.Offered * w.Duration.Seconds()
	all := lab.Schedule(int(mean*2+100), w.Offered, w.Seed)
	for i, off := range all {
		if off >= w.Duration {
			return all[:i]
		}
	}
	return all
}

// send makes one request and classifies its end.
func send(ctx context.Context, c *http.Client, w Worker, off time.Duration) Request {
	intended := w.Start.Add(off)
	ctx, cancel := context.WithTimeout(ctx, w.MaxWait+10*time.Second)
	defer cancel()
	r := Request{At: off}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.URL, nil)
	req.Header.Set(quota.KeyHeader, w.Group)
	req.Header.Set(WorkerHeader, strconv.Itoa(w.ID))
	resp, err := c.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	r.Latency = time.Since(intended)
	switch {
	case errors.Is(err, throttle.ErrThrottled), errors.Is(err, errNaiveRefused):
		r.Outcome = Rejected
	case err != nil:
		r.Outcome, r.Err = Failed, err.Error()
	case resp.StatusCode == http.StatusOK:
		r.Outcome = OK
	case resp.StatusCode == http.StatusTooManyRequests:
		r.Outcome = Throttled
	default:
		r.Outcome, r.Err = Failed, resp.Status
	}
	return r
}

func sleepUntil(ctx context.Context, at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lines collects a text handler's output line by line.
type lines struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func (w Worker) String() string { return fmt.Sprintf("%s/%d", w.Group, w.ID) }

// stamp sets SentHeader on each request it passes on: the instant the
// throttle released it.
type stamp struct{ next http.RoundTripper }

func (s stamp) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(SentHeader, strconv.FormatInt(time.Now().UnixNano(), 10))
	return s.next.RoundTrip(req)
}
