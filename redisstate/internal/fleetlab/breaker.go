package fleetlab

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/examples/lab/quota"
	"github.com/tailguard/tailguard/redisstate"
)

// Change is one state change of a breaker worker's key, as its decision
// log recorded it.
type Change struct {
	At       time.Duration // when it was logged, from the run's start
	From, To string
	Reason   string // the decision log's reason: failures, fleet, open_timeout, ...
}

// RunBreaker runs w as a breaker worker in this process and returns its
// report: from w.Delay after the run's start until w.Duration, it sends
// w.Offered GETs per second, evenly spaced, through a breaker with the
// default configuration whose Fleet is a redisstate.Store on w.Redis. The
// process connects to Redis only at w.Delay, as one started then would.
func RunBreaker(ctx context.Context, w Worker, ready func() (time.Time, error)) (Report, error) {
	rep := Report{ID: w.ID, Group: w.Group}
	logs := &lines{}
	changes := &changeLog{}
	logger := slog.New(changes.wrap(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	var (
		client  *http.Client
		closers []func()
	)
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	setup := func() error {
		rdb := redis.NewClient(&redis.Options{Addr: w.Redis, ContextTimeoutEnabled: true, MinIdleConns: 2})
		store := redisstate.New(rdb, redisstate.Config{Prefix: w.Prefix, Timeout: w.Timeout,
			Process: w.Group + "-" + strconv.Itoa(w.ID)})
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := store.Ready(rctx); err != nil {
			rdb.Close()
			return err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		client = &http.Client{Transport: breaker.New(breaker.Config{Fleet: store, Logger: logger}).Wrap(tr)}
		closers = append(closers, tr.CloseIdleConnections, func() { rdb.Close() })
		return nil
	}
	if w.Delay == 0 {
		if err := setup(); err != nil {
			return rep, err
		}
	}
	if ready != nil {
		start, err := ready()
		if err != nil {
			return rep, err
		}
		w.Start = start
	}
	changes.start = w.Start
	if w.Delay > 0 {
		if err := sleepUntil(ctx, w.Start.Add(w.Delay)); err != nil {
			return rep, err
		}
		if err := setup(); err != nil {
			return rep, err
		}
	}

	var (
		mu sync.Mutex // guards rep.Requests
		wg sync.WaitGroup
	)
	every := time.Duration(float64(time.Second) / w.Offered)
	for off := w.Delay; off < w.Duration; off += every {
		if err := sleepUntil(ctx, w.Start.Add(off)); err != nil {
			break
		}
		wg.Go(func() {
			r := sendBreaker(ctx, client, w, off)
			mu.Lock()
			rep.Requests = append(rep.Requests, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	rep.Logs = logs.all()
	rep.Changes = changes.all()
	return rep, ctx.Err()
}

// sendBreaker makes one request of a breaker worker and classifies its end.
func sendBreaker(ctx context.Context, c *http.Client, w Worker, off time.Duration) Request {
	intended := w.Start.Add(off)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.URL, nil)
	req.Header.Set(quota.KeyHeader, w.Group)
	req.Header.Set(WorkerHeader, strconv.Itoa(w.ID))
	resp, err := c.Do(req)
	r := Request{At: off, Latency: time.Since(intended)}
	switch {
	case errors.Is(err, breaker.ErrOpen):
		r.Outcome = Refused
	case err != nil:
		r.Outcome, r.Err = Failed, err.Error()
	default:
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			r.Outcome = OK
		case http.StatusServiceUnavailable:
			r.Outcome = Unhealthy
		default:
			r.Outcome, r.Err = Failed, resp.Status
		}
	}
	return r
}

// changeLog is a slog handler wrapper that keeps the breaker's
// state_change records as Changes. It is safe for concurrent use.
type changeLog struct {
	start time.Time

	mu  sync.Mutex // guards log
	log []Change
}

func (c *changeLog) add(ch Change) {
	c.mu.Lock()
	c.log = append(c.log, ch)
	c.mu.Unlock()
}

func (c *changeLog) all() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log
}

func (c *changeLog) wrap(h slog.Handler) slog.Handler { return changeHandler{h, c} }

type changeHandler struct {
	slog.Handler
	c *changeLog
}

func (h changeHandler) Handle(ctx context.Context, r slog.Record) error {
	ch := Change{At: r.Time.Sub(h.c.start)}
	isChange := false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "event":
			isChange = a.Value.String() == "state_change"
		case "from":
			ch.From = a.Value.String()
		case "to":
			ch.To = a.Value.String()
		case "reason":
			ch.Reason = a.Value.String()
		}
		return true
	})
	if isChange {
		h.c.add(ch)
	}
	return h.Handler.Handle(ctx, r)
}

func (h changeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return changeHandler{h.Handler.WithAttrs(as), h.c}
}

func (h changeHandler) WithGroup(name string) slog.Handler {
	return changeHandler{h.Handler.WithGroup(name), h.c}
}
