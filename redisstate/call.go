package redisstate

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrUnavailable is returned, at once and without calling Redis, while the
// store has no working connection: from New until its first probe
// succeeds, and after a failed call until a probe succeeds again.
var ErrUnavailable = errors.New("redisstate: Redis unavailable, using local state until it answers")

// ProbeTimeout bounds a probe: the call, off any request's path, that
// checks Redis before the store uses it again. It is longer than
// Config.Timeout because it may dial a connection (TCP and TLS handshakes,
// authentication) and load the scripts into a restarted Redis, which no
// request should wait for.
const ProbeTimeout = time.Second

// Connection states of a store.
const (
	stateUp      int32 = iota // calls go to Redis, bounded by Config.Timeout
	stateDown                 // calls fail fast until retryAt, then start a probe
	stateProbing              // one probe is running; calls fail fast
)

// downAfter is how many calls in a row must fail, over at least
// downSpan, before the store stops calling Redis for
// Config.RetryInterval. One slow call, or a Redis slow for a moment (a
// loaded machine deschedules it for a few milliseconds), then costs only
// the requests that meet it a fallback, while a dead or hung Redis, which
// fails every call, is given up on within a few calls and 50 ms. Calls
// that were in flight together count as one: a process descheduled for a
// moment fails every call it had in flight at once, against a Redis that
// is fine. (On the loaded test machine both kinds of moment marked Redis
// down for 250 ms several times a run, and each process then paced on
// its own beside the others' shared schedule.)
const (
	downAfter = 3
	downSpan  = 50 * time.Millisecond
)

// health tracks whether Redis answers. Between failures it costs one
// atomic load per call.
type health struct {
	state     atomic.Int32
	failures  atomic.Int32 // calls failed in a row while up, overlapping ones counted once
	firstFail atomic.Int64 // Unix ns at which the first of them returned
	lastFail  atomic.Int64 // Unix ns at which the last counted failure returned
	retryAt   atomic.Int64 // Unix ns after which a down store probes again
}

// failed counts a call that ran from start to end (Unix ns) and failed,
// unless it started before the last counted failure returned, and reports
// whether Redis is now down: downAfter failures in a row, the first of
// them at least span before end.
func (h *health) failed(start, end int64, span time.Duration) bool {
	for {
		last := h.lastFail.Load()
		if start < last {
			return false // in flight with the counted failure: the same spell
		}
		if h.lastFail.CompareAndSwap(last, end) {
			break
		}
	}
	n := h.failures.Add(1)
	if n == 1 {
		h.firstFail.Store(end)
	}
	return n >= downAfter && end-h.firstFail.Load() >= int64(span)
}

// do runs fn against Redis, bounded by Config.Timeout, unless Redis is
// known to be down: then it fails at once with ErrUnavailable, and once
// Config.RetryInterval has passed since it went down it starts a probe on
// its own goroutine: no request waits for a probe, and a hung Redis never
// serializes requests. Redis is known to be down after downAfter calls in
// a row failed (see downAfter). A call that fails long after its bound
// because this process was descheduled is tried once more (see
// stalledAfter). An error caused by the caller's own context is returned
// as ctx.Err() and says nothing about Redis.
func (s *Store) do(ctx context.Context, fn func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch s.health.state.Load() {
	case stateDown:
		if time.Now().UnixNano() >= s.health.retryAt.Load() && s.health.state.CompareAndSwap(stateDown, stateProbing) {
			go s.probe()
		}
		return ErrUnavailable
	case stateProbing:
		return ErrUnavailable
	}
	start, err := s.attempt(ctx, fn)
	if err != nil && ctx.Err() == nil && time.Since(start) > stalledAfter*s.s.timeout {
		// The call returned long after its bound: this process was not
		// running (descheduled, a GC pause), which says nothing about
		// Redis, and the bound ran out while nothing waited on it. Once.
		start, err = s.attempt(ctx, fn)
	}
	switch {
	case err == nil:
		if s.health.failures.Load() != 0 {
			s.health.failures.Store(0)
		}
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if s.health.failed(start.UnixNano(), time.Now().UnixNano(), downSpan) {
		s.markDown()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redisstate: no answer within %v: %w", s.s.timeout, err)
	}
	return fmt.Errorf("redisstate: %w", err)
}

// stalledAfter is how many times its bound a failed call must have taken
// for the store to blame the caller's process rather than Redis: a Redis
// that does not answer fails the call at its bound, give or take the
// timer's wake-up; one that returns at several times the bound was not
// being waited for.
const stalledAfter = 2

// attempt runs fn once, bounded by Config.Timeout, and returns when it
// started and its error.
func (s *Store) attempt(ctx context.Context, fn func(context.Context) error) (time.Time, error) {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, s.s.timeout)
	defer cancel()
	return start, fn(cctx)
}

// markDown makes calls fail fast for Config.RetryInterval.
//
// The first probe is due RetryInterval later whether or not a request
// calls the store then: a process that stops calling (its gate closed for
// a pause the upstream asked for) would otherwise stay on local state, and
// count itself in an outage, until its next request, long after Redis
// answered again (a second, in the fleet test, with Redis fine). If that
// probe fails, the next ones are started by the calls that find the store
// down past RetryInterval, as before: no timer runs for a store nobody
// uses.
func (s *Store) markDown() {
	s.health.retryAt.Store(time.Now().Add(s.s.retryInterval).UnixNano())
	s.health.state.Store(stateDown)
	s.health.failures.Store(0)
	time.AfterFunc(s.s.retryInterval, func() {
		if s.health.state.CompareAndSwap(stateDown, stateProbing) {
			s.probe()
		}
	})
}

// probe checks Redis, bounded by ProbeTimeout, and marks the store up or
// down. It runs with the state at stateProbing, so only one runs at once.
func (s *Store) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	if s.load(ctx) != nil {
		// Unless Ready succeeded meanwhile.
		s.health.retryAt.Store(time.Now().Add(s.s.retryInterval).UnixNano())
		s.health.state.CompareAndSwap(stateProbing, stateDown)
		return
	}
	s.health.state.Store(stateUp)
}

// load loads every script into Redis, which also proves that it answers
// and warms a connection. Calls after it need one round trip each, even
// right after Redis restarted with an empty script cache.
func (s *Store) load(ctx context.Context) error {
	for _, sc := range scripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return err
		}
	}
	return nil
}

// Ready waits until Redis answers and the scripts are loaded, or ctx ends,
// and returns the last error. A process that calls it before serving
// starts with shared state; without it, the first requests of a process
// (the first milliseconds) use local state while the store connects in the
// background.
func (s *Store) Ready(ctx context.Context) error {
	for {
		err := s.load(ctx)
		if err == nil {
			s.health.state.Store(stateUp)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redisstate: not ready: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
