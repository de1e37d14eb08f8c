package hedge

import (
	"time"

	"github.com/tailguard/tailguard/internal/attempt"
)

// The hedge delay measures the upstream's slowness, so it does not run
// while an inner stage holds an attempt back locally, before sending it
// (a throttle's pace turn, a new host's debut, a concurrency slot; see
// [attempt.Waiter]). Before, in hedge(throttle(...)) order, a request
// paced for 800 ms fired its hedge at the delay (100 ms) as a spare copy
// the throttle refused at once for want of pace: a hedge counted and paid
// for from the budget that never left the process, for every paced
// request. Now the race holds its schedule for the wait and takes it up
// from where it was when the wait ends; the wait is no latency sample
// either. (A closed gate or a breaker's MaxWait also reports a pause,
// which stops hedging the request altogether: see attemptCtx.Report.)

// WaitBegin implements [attempt.Waiter] for attempt a: the race's hedge
// schedule stops until every wait of its attempts has ended. An enclosing
// listener (a retry stage outside this one) is told too.
func (a *attemptCtx) WaitBegin() {
	r := a.r
	r.mu.Lock()
	a.waited = true
	if r.holds++; r.holds == 1 {
		r.heldAt = time.Since(r.start)
	}
	r.mu.Unlock()
	// The timer is left to fire: onTimer finds the race held and sends
	// nothing, and WaitEnd arms it again.
	attempt.WaitBegin(r.parent)
}

// WaitEnd implements [attempt.Waiter]: when the last wait ends, the next
// hedge is due its delay after the start, not counting the waits.
func (a *attemptCtx) WaitEnd() {
	r := a.r
	now := time.Now()
	r.mu.Lock()
	if r.holds--; r.holds == 0 {
		r.held += now.Sub(r.start) - r.heldAt
		if k := len(r.hedges) + 1; r.timer != nil && !r.decided && !r.stopped && k <= r.t.h.cfg.sched.hedges {
			r.armLocked(k, now)
		}
	}
	r.mu.Unlock()
	attempt.WaitEnd(r.parent)
}

// runLocked is how long the race has run at now, less the time its
// attempts were held back locally: the clock of its hedge schedule.
func (r *race) runLocked(now time.Time) time.Duration {
	if r.holds > 0 {
		return r.heldAt - r.held // the schedule's clock stopped when the wait began
	}
	return now.Sub(r.start) - r.held
}
