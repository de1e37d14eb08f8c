package redisstate

import (
	"context"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/throttle"
)

// A Store shares the throttle's quota schedule and pushback gate.
var _ throttle.Shared = (*Store)(nil)

// Reserve implements [throttle.Shared] in one round trip (none when this
// process holds a leased token): it takes one token of key's GCRA quota,
// available now or reserved within maxWait, unless key's gate is closed.
// The quota is kept on the server's clock at the rate and burst the
// caller passes; processes that know different rates for one key share
// one schedule, each advancing it by its own emission interval.
func (s *Store) Reserve(ctx context.Context, key string, q throttle.Quota, maxWait time.Duration) (throttle.Reservation, error) {
	r, burst := float64(q.Rate), max(q.Burst, 1)
	if q.Rate == rate.Inf { // math.MaxFloat64, not +Inf
		r = math.Inf(1)
	}
	g, err := s.reserve(ctx, key, r, burst, maxWait)
	if err != nil {
		return throttle.Reservation{}, err
	}
	return throttle.Reservation{OK: g.tokens > 0, Delay: g.wait, Paused: g.paused, Processes: g.users}, nil
}

// Pause implements [throttle.Shared]: it closes key's gate for d in every
// process sharing this store's Redis and prefix, unless it is closed for
// longer already, and drops this process's leased tokens for key. If the
// call fails (not for the caller's cancellation), the store tries again
// off the caller's path until Redis takes the pause or it ends: the
// process that received a pause is often the only one that can tell the
// others, and it sends nothing to the host until the pause ends, so no
// later call of its own would carry it.
func (s *Store) Pause(ctx context.Context, key string, d time.Duration) error {
	s.leases.drop(key)
	until := time.Now().Add(d)
	_, err := s.pause(ctx, key, d)
	if err != nil && ctx.Err() == nil {
		s.retryPause(key, until, pauseRetryFirst)
	}
	return err
}

// pauseRetryFirst is how long after a failed call to share a pause the
// store tries again; each failure after it doubles the wait, up to the
// store's RetryInterval.
const pauseRetryFirst = 10 * time.Millisecond

// retryPause tries, after wait, to close key's gate until until, and
// goes on trying until the call succeeds or until has passed. Each try is
// a timer's callback (no goroutine waits between tries) bounded by the
// store's Timeout.
func (s *Store) retryPause(key string, until time.Time, wait time.Duration) {
	time.AfterFunc(wait, func() {
		left := time.Until(until)
		if left <= 0 {
			return
		}
		if _, err := s.pause(context.Background(), key, left); err != nil {
			s.retryPause(key, until, min(2*wait, max(s.s.retryInterval, wait)))
		}
	})
}
