package retry

import "sync/atomic"

// Stats are cumulative counters since [New]; they never decrease. The six
// stop counters count requests returned with an outcome that would
// otherwise have been retried; their sum is every request the stage gave
// up on.
type Stats struct {
	Requests uint64 // requests received: in hedge(retry(...)) order, the original and each hedge
	Retries  uint64 // extra attempts sent

	Exhausted     uint64 // stopped: MaxAttempts reached
	BudgetDenied  uint64 // stopped: the budget refused a retry
	DeadlineStops uint64 // stopped: the wait would have ended past the context deadline
	ThrottleStops uint64 // stopped: Retry-After exceeded MaxRetryAfter
	BodyStops     uint64 // stopped: GetBody failed, so the retry could not be sent
	// HedgeResends counts requests left to an enclosing hedge stage: in
	// hedge(retry(...)) order the race re-sends a failed try at once as a
	// hedge, which is that failure's retry, so this stage does not retry
	// it again after its backoff.
	HedgeResends uint64
}

// counters holds Stats as atomics, so that requests update them without a
// lock.
type counters struct {
	requests, retries                                     atomic.Uint64
	exhausted, budgetDenied, deadline, slow, body, resent atomic.Uint64
}

func (c *counters) load() Stats {
	return Stats{
		Requests:      c.requests.Load(),
		Retries:       c.retries.Load(),
		Exhausted:     c.exhausted.Load(),
		BudgetDenied:  c.budgetDenied.Load(),
		DeadlineStops: c.deadline.Load(),
		ThrottleStops: c.slow.Load(),
		BodyStops:     c.body.Load(),
		HedgeResends:  c.resent.Load(),
	}
}

// stop counts a request given up on for reason.
func (c *counters) stop(reason stopReason) {
	switch reason {
	case stopExhausted:
		c.exhausted.Add(1)
	case stopBudget:
		c.budgetDenied.Add(1)
	case stopDeadline:
		c.deadline.Add(1)
	case stopTooLong:
		c.slow.Add(1)
	case stopBody:
		c.body.Add(1)
	case stopResent:
		c.resent.Add(1)
	}
}
