package redisstate

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tailguard/tailguard/internal/saturate"
)

//go:embed quota.lua
var quotaLua string

//go:embed pause.lua
var pauseLua string

var (
	quotaScript = redis.NewScript(quotaLua)
	pauseScript = redis.NewScript(pauseLua)
)

// scripts lists every script, for Store.load.
var scripts = []*redis.Script{quotaScript, pauseScript, observeScript, reportScript}

// usersWindow is how long a process counts as a user of a quota after its
// last call: long enough to span the gaps of a process with little demand,
// short enough that the fleet's size follows processes that stop.
const usersWindow = 5 * time.Second

// grant is the fleet's answer to a request for quota.
type grant struct {
	tokens int           // tokens granted; 0 when refused
	wait   time.Duration // granted: wait this long before sending; refused: until a token would be available
	paused time.Duration // refused because the gate is closed for this much longer
	users  int           // processes that used the quota within usersWindow, this one included
}

// interval returns a quota's emission interval in whole microseconds,
// rounded up so that the fleet never runs faster than rate; 0 for an
// unlimited rate.
func interval(rate float64) int64 {
	if math.IsInf(rate, 1) {
		return 0
	}
	us := math.Ceil(1e6 / rate)
	if us >= math.MaxInt64 {
		// A rate too slow for an int64 of microseconds (a window a server
		// announced as a billion years): converting it would be
		// implementation-defined, math.MinInt64 on amd64, which max
		// turned into a 1 µs interval, a million requests a second.
		return math.MaxInt64
	}
	return max(1, int64(us))
}

// take asks Redis, in one round trip, for up to want tokens of key's quota
// that are available now, or for one token within maxWait, unless key's
// gate is closed. An infinite rate checks only the gate.
func (s *Store) take(ctx context.Context, key string, rate float64, burst, want int, maxWait time.Duration) (grant, error) {
	if !(rate > 0) || burst < 1 || want < 1 {
		return grant{}, fmt.Errorf("redisstate: invalid quota: rate %v, burst %d, want %d", rate, burst, want)
	}
	iv := interval(rate)
	var res []int64
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		res, err = quotaScript.Run(ctx, s.rdb, s.keys(key, "quota", "gate", "users"),
			iv, burst, want, max(0, maxWait.Microseconds()), s.s.process, usersWindow.Microseconds()).Int64Slice()
		return err
	})
	if err != nil {
		return grant{}, err
	}
	if len(res) != 4 {
		return grant{}, fmt.Errorf("redisstate: quota script answered %v", res)
	}
	return grant{tokens: int(res[0]), wait: micros(res[1]), paused: micros(res[2]), users: int(res[3])}, nil
}

// pause closes key's gate for d, fleet-wide, unless it is closed for
// longer already, and returns how long it stays closed.
func (s *Store) pause(ctx context.Context, key string, d time.Duration) (time.Duration, error) {
	var left int64
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		left, err = pauseScript.Run(ctx, s.rdb, s.keys(key, "gate"), max(1, d.Microseconds())).Int64()
		return err
	})
	return micros(left), err
}

func micros(n int64) time.Duration { return saturate.Mul(n, time.Microsecond) }

// reserve grants one token of key's fleet quota: from this process's lease
// when it holds one (no round trip), else in one round trip that also
// leases up to Config.Lease-1 more when they are available now.
func (s *Store) reserve(ctx context.Context, key string, rate float64, burst int, maxWait time.Duration) (grant, error) {
	now := time.Now()
	if s.s.lease > 1 && s.leases.use(key, now) {
		return grant{tokens: 1, users: s.leases.users(key)}, nil
	}
	g, err := s.take(ctx, key, rate, burst, s.s.lease, maxWait)
	if err != nil {
		return grant{}, err
	}
	if g.paused > 0 {
		s.leases.drop(key)
	}
	if extra := g.tokens - 1; extra > 0 {
		// The extra tokens are good for as long as the fleet's quota takes
		// to produce them; later they would be a burst the schedule never
		// saw.
		s.leases.add(key, extra, g.users, now, now.Add(saturate.Mul(int64(extra), micros(interval(rate)))))
		g.tokens = 1
	}
	return g, nil
}
