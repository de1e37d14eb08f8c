package throttle

import (
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// share is this process's part of a host's shared quota: a token bucket at
// the quota's rate divided by the number of processes sharing it (as the
// store last reported), charged for every request the fleet's quota
// admitted. It paces the process while the store fails, so that the fleet
// then sends about the quota rather than the quota once per process; and
// a single failed call, which the bucket sees while the process is using
// its share, rarely becomes a request beyond the fleet's schedule.
//
// It is safe for concurrent use; the zero value knows no share.
type share struct {
	lim atomic.Pointer[rate.Limiter] // nil until the store reports a fleet
	// pausedTo is the end of the last pause this process learned from the
	// fleet's gate (Unix ns), so that the requests that learn one pause at
	// once count and log it once.
	pausedTo atomic.Int64
}

// fleetPauseSlack is how much later than the last pause learned from the
// fleet a pause must end to be another: each request that learns one
// computes its end from its own clock after its own round trip.
const fleetPauseSlack = 100 * time.Millisecond

// newPause reports whether a pause until until, learned from the fleet, is
// not one already learned, and remembers it.
func (s *share) newPause(until time.Time) bool {
	for {
		last := s.pausedTo.Load()
		if until.UnixNano() < last+int64(fleetPauseSlack) {
			return false
		}
		if s.pausedTo.CompareAndSwap(last, until.UnixNano()) {
			return true
		}
	}
}

// granted charges the fleet's grant of a token at now, for a turn at
// turn (now or later), to the share, after setting the share's rate from
// the quota (lim per second, burst) and the fleet's size. A charge may
// leave the share one token in debt at now: a process using its share then
// finds it empty, so a call that fails alone rarely adds a request to the
// fleet's schedule; a process that got more than its share because others
// were idle owes at most one token beyond its turns. And the share holds
// no token before turn: the fleet's schedule is committed up to the
// turns it granted, which the requests holding them still take while the
// store fails, so the share only begins after them. (Charged at now alone,
// every process of a loaded fleet, each holding turns up to MaxWait ahead,
// fell back at once when Redis stalled for all of them, and sent its share
// on top of those turns: twice the quota for a MaxWait, which emptied the
// upstream's burst and cost the fleet the second's pause its
// "RateLimit: r=0;t=1" asked for.)
func (s *share) granted(now, turn time.Time, lim rate.Limit, burst, processes int) {
	if processes <= 0 || lim == rate.Inf || lim <= 0 {
		return
	}
	r := lim / rate.Limit(processes)
	b := max(1, burst/processes)
	l := s.lim.Load()
	if l == nil {
		l = rate.NewLimiter(r, b)
		s.lim.Store(l)
	} else {
		retune(l, now, r, b)
	}
	if l.TokensAt(now) > -1 {
		l.ReserveN(now, 1)
	}
	// Taken now, one at a time (a reservation cannot exceed the burst):
	// the tokens the share would have made by turn. After the first grant
	// of a busy spell that is about one per grant; maxCharge bounds the
	// first.
	ahead := turn.Sub(now).Seconds() * float64(r)
	for range maxCharge {
		if ahead <= 0 || l.TokensAt(now)+ahead < 1 {
			break
		}
		l.ReserveN(now, 1)
	}
}

// maxCharge bounds the tokens one grant charges the share: a grant far
// ahead at a high rate (a MaxWait of seconds at thousands a second) costs
// no more than this many steps, and leaves the share that much less in debt.
const maxCharge = 1024

// take asks the share for a token at now, as pacer.take does; known is
// false if no share is known yet (the caller then uses the host's bucket).
func (s *share) take(now time.Time, maxWait time.Duration) (wait time.Duration, res *rate.Reservation, ok, known bool) {
	l := s.lim.Load()
	if l == nil {
		return 0, nil, false, false
	}
	wait, res, ok = takeToken(l, now, maxWait)
	return wait, res, ok, true
}

// above reports whether the share, once known, lets this process send
// faster than its own pacing p does; an unknown share does.
func (s *share) above(p *pacer) bool {
	l := s.lim.Load()
	if l == nil {
		return true
	}
	lim, _ := p.limits()
	return l.Limit() > lim
}
