package throttle

import (
	"sync/atomic"
	"time"
)

// Stats are cumulative counters since [New]; they never decrease.
type Stats struct {
	// Admitted counts requests sent to the next transport.
	Admitted uint64
	// Waited counts admitted requests that waited first, and WaitTime is
	// the sum of their waits.
	Waited   uint64
	WaitTime time.Duration

	// Rejected requests by reason: each was refused unsent with an
	// [*Error].
	RejectedGate, RejectedPace, RejectedAdaptive, RejectedConcurrency uint64

	// Pauses counts responses that closed (or extended) a host's gate,
	// and, with Config.Shared, pauses learned from the fleet's gate.
	Pauses uint64
}

// Rejected returns the sum of the four rejection counters.
func (s Stats) Rejected() uint64 {
	return s.RejectedGate + s.RejectedPace + s.RejectedAdaptive + s.RejectedConcurrency
}

// counters holds Stats as atomics, so that requests update them without a
// lock.
type counters struct {
	admitted, waited, waitTime atomic.Uint64
	rejected                   [len(reasonNames)]atomic.Uint64
	pauses                     atomic.Uint64
}

func (c *counters) load() Stats {
	return Stats{
		Admitted:            c.admitted.Load(),
		Waited:              c.waited.Load(),
		WaitTime:            time.Duration(c.waitTime.Load()),
		RejectedGate:        c.rejected[Gate].Load(),
		RejectedPace:        c.rejected[Pace].Load(),
		RejectedAdaptive:    c.rejected[Adaptive].Load(),
		RejectedConcurrency: c.rejected[Concurrency].Load(),
		Pauses:              c.pauses.Load(),
	}
}

// admit counts a request sent after waiting wait.
func (c *counters) admit(wait time.Duration) {
	c.admitted.Add(1)
	if wait > 0 {
		c.waited.Add(1)
		c.waitTime.Add(uint64(wait))
	}
}
