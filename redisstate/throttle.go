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
// longer already, and drops this process's leased tokens for key.
func (s *Store) Pause(ctx context.Context, key string, d time.Duration) error {
	s.leases.drop(key)
	_, err := s.pause(ctx, key, d)
	return err
}
