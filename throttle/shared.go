package throttle

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Shared is the part of a host's state that the throttles of many
// processes can share, so that a fleet calling one upstream with one quota
// behaves as one client: the quota's schedule and the pushback gate.
// Config.Shared plugs it in; the nested module
// github.com/tailguard/tailguard/redisstate implements it on Redis. The
// default, a nil Config.Shared, keeps all state in the process.
//
// What stays local even with Shared: adaptive throttling (each process
// counts its own requests and accepts, as the SRE book's clients do), the
// concurrency cap, what AIMD learns from bare 429s (a cut of the rate this
// process was sending at: it paces this process alone, in front of the
// shared schedule, and never the others), and the probe after a pause
// (each process sends its own). The shared schedule runs at the host's
// quota as the asking process knows it: Config.Rate or HostRate, or what
// the host's headers announced, whichever is lower — the same for every
// process that is configured alike and hears the same headers.
//
// # Contract
//
// The throttle calls Reserve at most once per request, on the request's
// goroutine, and never while a host's gate is known to be closed in this
// process; it calls Pause once for each response that moves a host's
// pause later. Each call must return within a few milliseconds whatever
// the store does, and must return an error rather than wait for a store
// that does not answer: on an error the throttle uses its local state
// for that request, logs the first failure through Config.Logger, and
// tries Shared again on the next request. The local state is this
// process's share of the quota (see Reservation.Processes) once the store
// has said how many processes share it, else the host's own token bucket;
// a pause stays local. A Shared must be safe for concurrent use.
type Shared interface {
	// Reserve asks for one token of key's quota, paced at q. If a token is
	// available now it grants it with no Delay; otherwise it may reserve
	// the next free one, granting it with the Delay until then, if that
	// is at most maxWait (maxWait is 0 for a request that may not wait,
	// such as a hedge). If key's gate is closed it grants nothing and
	// reports the pause left in Paused. A q.Rate of rate.Inf means the
	// host's pace is unlimited: only the gate applies.
	Reserve(ctx context.Context, key string, q Quota, maxWait time.Duration) (Reservation, error)

	// Pause closes key's gate for d in every process sharing it, unless
	// it is already closed for longer.
	Pause(ctx context.Context, key string, d time.Duration) error
}

// Quota is a pace: Rate tokens per second, in bursts of at most Burst.
type Quota struct {
	Rate  rate.Limit
	Burst int
}

// Reservation is a [Shared] store's answer to Reserve.
type Reservation struct {
	// OK reports that a token was granted, to be used after Delay.
	OK bool
	// Delay is, when OK, how long to wait before sending; otherwise how
	// long until a token would be free (0 if unknown). A granted token
	// that is not used is not given back: the fleet sends less, never
	// more.
	Delay time.Duration
	// Paused, when positive, is how long key's gate stays closed: nothing
	// was granted.
	Paused time.Duration
	// Processes is how many processes have used key's quota lately, this
	// one included; 0 if the store does not say. While the store fails,
	// the throttle paces this process at its share of the quota, Rate /
	// Processes, so that the fleet stays near the quota instead of
	// sending it once per process.
	Processes int
}

// quota returns the host's quota as this process knows it, for the
// fleet's schedule: the lower of the configured and the learned (header)
// rates, with that source's burst; rate.Inf if neither is known. AIMD's
// estimate is not part of it (see Throttle.takePace).
func (p *pacer) quota() Quota {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := Quota{Rate: rate.Inf}
	if p.configured > 0 {
		q = Quota{Rate: p.configured, Burst: p.configuredBurst}
	}
	if p.learned > 0 && p.learned < q.Rate {
		q = Quota{Rate: p.learned, Burst: p.learnedBurst}
	}
	return q
}

// below reports whether the pacing holds this process below r: AIMD's
// estimate is lower than the host's quota.
func (p *pacer) below(r rate.Limit) bool {
	lim, _ := p.limits()
	return lim < r
}
