package retry

import (
	"context"
	"sync"
	"time"

	"github.com/tailguard/tailguard/internal/attempt"
)

// timeoutCtx is one attempt's context under Config.AttemptTimeout, and
// the attempt's timer: it cancels the attempt with ErrAttemptTimeout when
// the upstream has had d to answer. Time an inner stage spends holding the
// request back locally (a throttle's pace turn or closed gate, a breaker's
// wait for a probe) is not the upstream's: the context answers the
// [attempt.WaiterKey] lookup itself, stops the timer while such a wait
// lasts, and arms it again with the whole d when the wait ends, the
// instant the request may go. A timer that has fired stays fired.
//
// Unknown keys go to the embedded context, so children attach to its
// cancellation directly, without a goroutine.
type timeoutCtx struct {
	context.Context // the attempt's cancelable context

	d      time.Duration
	cancel context.CancelCauseFunc

	mu      sync.Mutex // guards the fields below
	timer   *time.Timer
	waiting int  // waits in progress (copies of the request may wait at once); the timer is stopped meanwhile
	fired   bool // the timer fired: the attempt is canceled (never during a wait)
	ended   bool // the attempt's wait for headers is over: the timer stays stopped
}

// startTimeout returns the context of an attempt sent under parent,
// canceled with ErrAttemptTimeout once the upstream has had d to answer
// (see timeoutCtx). The caller must call end when RoundTrip returns.
func startTimeout(parent context.Context, d time.Duration) *timeoutCtx {
	ctx, cancel := context.WithCancelCause(parent)
	c := &timeoutCtx{Context: ctx, d: d, cancel: cancel}
	c.mu.Lock() // a timer of d shorter than this function must find c whole
	c.timer = time.AfterFunc(d, c.fire)
	c.mu.Unlock()
	return c
}

// Value answers the Waiter lookup and delegates every other key.
func (c *timeoutCtx) Value(key any) any {
	if _, ok := key.(attempt.WaiterKey); ok {
		return attempt.Waiter(c)
	}
	return c.Context.Value(key)
}

func (c *timeoutCtx) fire() {
	c.mu.Lock()
	if c.waiting > 0 || c.ended {
		// Stopped by a wait or by end after the timer's goroutine was
		// started: Stop could not tell, and the timer did not fire.
		c.mu.Unlock()
		return
	}
	c.fired = true
	c.mu.Unlock()
	c.cancel(ErrAttemptTimeout)
}

// WaitBegin implements [attempt.Waiter]: the first of overlapping waits
// stops the timer.
func (c *timeoutCtx) WaitBegin() {
	c.mu.Lock()
	c.waiting++
	if c.waiting == 1 && !c.fired && !c.ended {
		c.timer.Stop()
	}
	c.mu.Unlock()
	attempt.WaitBegin(c.Context) // the Waiter this one shadows hears of every wait too
}

// WaitEnd implements [attempt.Waiter]: when the last wait ends, the
// upstream gets the whole d from now.
func (c *timeoutCtx) WaitEnd() {
	c.mu.Lock()
	c.waiting--
	if c.waiting == 0 && !c.fired && !c.ended {
		c.timer.Reset(c.d)
	}
	c.mu.Unlock()
	attempt.WaitEnd(c.Context) // the Waiter this one shadows hears of every wait too
}

// end stops the timer for good, once the attempt's RoundTrip returned, and
// reports whether it fired first: whatever came back was then cut short by
// it. A wait that a copy of the request (a hedge's loser) ends later arms
// nothing.
func (c *timeoutCtx) end() (fired bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	c.timer.Stop()
	return c.fired
}
