package fleetlab

import (
	"context"
	"sync"
	"time"

	"github.com/tailguard/tailguard/throttle"
)

// calls logs every call of a throttle to its shared store: when, how
// long, and whether it failed. It is safe for concurrent use.
type calls struct {
	start time.Time

	mu  sync.Mutex // guards log
	log []Call
}

func (c *calls) add(start time.Time, err error) {
	took := time.Since(start)
	c.mu.Lock()
	c.log = append(c.log, Call{At: start.Sub(c.start), Took: took, Failed: err != nil})
	c.mu.Unlock()
}

func (c *calls) all() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log
}

// wrap returns s with every call logged in c.
func (c *calls) wrap(s throttle.Shared) throttle.Shared { return timedShared{s, c} }

type timedShared struct {
	s throttle.Shared
	c *calls
}

func (t timedShared) Reserve(ctx context.Context, key string, q throttle.Quota, maxWait time.Duration) (throttle.Reservation, error) {
	start := time.Now()
	r, err := t.s.Reserve(ctx, key, q, maxWait)
	t.c.add(start, err)
	return r, err
}

func (t timedShared) Pause(ctx context.Context, key string, d time.Duration) error {
	start := time.Now()
	err := t.s.Pause(ctx, key, d)
	t.c.add(start, err)
	return err
}
