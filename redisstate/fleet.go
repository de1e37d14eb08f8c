package redisstate

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tailguard/tailguard/breaker"
)

//go:embed observe.lua
var observeLua string

//go:embed report.lua
var reportLua string

var (
	observeScript = redis.NewScript(observeLua)
	reportScript  = redis.NewScript(reportLua)
)

// view is the fleet's breaker state for one key, within a window.
type view struct {
	callers int           // processes that called the key
	opens   int           // processes whose breaker reported it open
	newest  time.Duration // age of the newest open report; -1 if none
	self    bool          // this process's own report is among opens
}

// observe registers this process as a caller of key, if calling, and
// returns the fleet's view of it within window, in one round trip.
func (s *Store) observe(ctx context.Context, key string, window time.Duration, calling bool) (view, error) {
	flag := 0
	if calling {
		flag = 1
	}
	var res []int64
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		res, err = observeScript.Run(ctx, s.rdb, s.keys(key, "opens", "callers"),
			s.s.process, max(1, window.Microseconds()), flag).Int64Slice()
		return err
	})
	if err != nil {
		return view{}, err
	}
	if len(res) != 4 {
		return view{}, fmt.Errorf("redisstate: observe script answered %v", res)
	}
	v := view{callers: int(res[0]), opens: int(res[1]), newest: -1, self: res[3] == 1}
	if res[2] >= 0 {
		v.newest = micros(res[2])
	}
	return v, nil
}

// report records that this process's breaker for key opened, or withdraws
// its report when the breaker closed; an open report lives for window
// unless refreshed.
func (s *Store) report(ctx context.Context, key string, open bool, window time.Duration) error {
	flag := 0
	if open {
		flag = 1
	}
	return s.do(ctx, func(ctx context.Context) error {
		return reportScript.Run(ctx, s.rdb, s.keys(key, "opens"), s.s.process, flag, max(1, window.Microseconds())).Err()
	})
}

// A Store shares the breaker's view of each host.
var _ breaker.Fleet = (*Store)(nil)

// Report implements [breaker.Fleet]: it records, on the server's clock,
// that this process's breaker for key opened, or withdraws its report.
func (s *Store) Report(ctx context.Context, key string, open bool, window time.Duration) error {
	return s.report(ctx, key, open, window)
}

// Observe implements [breaker.Fleet] in one round trip.
func (s *Store) Observe(ctx context.Context, key string, window time.Duration, calling bool) (breaker.FleetView, error) {
	v, err := s.observe(ctx, key, window, calling)
	if err != nil {
		return breaker.FleetView{}, err
	}
	others := v.opens
	if v.self {
		others--
	}
	newest := v.newest
	if others == 0 {
		newest = -1
	}
	return breaker.FleetView{Callers: v.callers, Open: others, Newest: newest}, nil
}
