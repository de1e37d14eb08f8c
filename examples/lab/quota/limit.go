package quota

import (
	"fmt"
	"time"
)

// Defaults of a zero [Limit].
const (
	// DefaultRate is the sustained quota: requests per Period.
	DefaultRate = 100
	// DefaultPeriod is the quota's period.
	DefaultPeriod = time.Second
	// DefaultBurst is how many requests may arrive back to back after an
	// idle spell.
	DefaultBurst = 10
)

// Limit is a quota: Rate requests per Period, in bursts of at most Burst.
// A zero field takes its default (100 per second, bursts of 10).
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerSecond is Rate expressed in requests per second.
func (l Limit) PerSecond() float64 { return float64(l.Rate) / l.Period.Seconds() }

func (l Limit) String() string {
	return fmt.Sprintf("%d requests per %v, burst %d", l.Rate, l.Period, l.Burst)
}

// normalize applies the defaults and panics on an invalid field. Period
// must be whole seconds: the header dialects state it in seconds.
func (l Limit) normalize() Limit {
	if l.Rate == 0 {
		l.Rate = DefaultRate
	}
	if l.Period == 0 {
		l.Period = DefaultPeriod
	}
	if l.Burst == 0 {
		l.Burst = DefaultBurst
	}
	switch {
	case l.Rate < 0:
		panic(fmt.Sprintf("quota: Limit.Rate must be positive, got %d", l.Rate))
	case l.Period < time.Second || l.Period%time.Second != 0:
		panic(fmt.Sprintf("quota: Limit.Period must be a whole number of seconds, got %v", l.Period))
	case l.Burst < 0:
		panic(fmt.Sprintf("quota: Limit.Burst must be positive, got %d", l.Burst))
	case l.Period/time.Duration(l.Rate) == 0:
		panic(fmt.Sprintf("quota: Limit.Rate %d per %v is above one per nanosecond", l.Rate, l.Period))
	}
	return l
}

// Decision is the quota's answer to one request, in the terms of
// redis_rate's Result, which the fleet's shared quota also reports.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would be admitted right now.
	Remaining int
	// RetryAfter is, for a denied request, how long until one would be
	// admitted; 0 when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
}

// gcra is one key's state in the generic cell rate algorithm (the virtual
// scheduling form of a leaky bucket, as in ATM traffic policing and
// redis_rate): tat is the theoretical arrival time of the next request if
// requests came exactly at the quota's pace. A request is admitted unless
// it comes more than the burst tolerance ahead of that schedule.
//
// It is written here rather than taken from golang.org/x/time/rate, which
// the core does not depend on yet and whose float token count makes
// "retry after" and "reset after" approximate; the duration arithmetic
// below is exact and is redis_rate's, which the fleet issue shares quotas
// with.
type gcra struct{ tat time.Time }

// allow decides one request arriving at now and records it if admitted.
// It is pure apart from its own state: time enters only through now.
func (g *gcra) allow(l Limit, now time.Time) Decision {
	interval := l.Period / time.Duration(l.Rate) // one request's share
	tolerance := interval * time.Duration(l.Burst)
	tat := g.tat
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	// Seconds now is past the earliest admissible arrival.
	ahead := now.Sub(next.Add(-tolerance))
	if ahead < 0 {
		return Decision{RetryAfter: -ahead, ResetAfter: tat.Sub(now)}
	}
	g.tat = next
	return Decision{Allowed: true, Remaining: int(ahead / interval), ResetAfter: next.Sub(now)}
}
