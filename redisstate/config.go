package redisstate

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults used for zero [Config] fields.
const (
	// DefaultPrefix starts every key the store writes, so that tailguard's
	// keys are easy to find and never collide with the application's.
	DefaultPrefix = "tailguard:"
	// DefaultTimeout bounds each call to Redis. A loopback or same-zone
	// round trip takes well under a millisecond; 5 ms leaves room for a
	// loaded server and still keeps a request that meets a hung Redis from
	// stalling more than a few milliseconds before it falls back.
	DefaultTimeout = 5 * time.Millisecond
	// DefaultRetryInterval is how long a store that found Redis down
	// fails every call at once with [ErrUnavailable], so that the stages
	// use their local state without waiting, before it probes Redis
	// again. While Redis is down that costs one probe per interval per
	// process, off any request's path, and sharing resumes about this long
	// after Redis answers again. It is well below the throttle's 250 ms
	// before it paces a process at its share of the quota (and logs an
	// outage): a Redis that was only slow for a moment (3 calls in a row
	// past their bound on a loaded machine) is used again before the
	// process starts sending on its own, beside the others' shared
	// schedule. With 250 ms such a moment became an outage: logged, and
	// each process on its share while the others still took the whole
	// schedule, which drove the quota lab's upstream into pauses.
	DefaultRetryInterval = 100 * time.Millisecond
	// DefaultLease is how many quota tokens one round trip takes when that
	// many are available: 1, so that the fleet's quota is exact. See
	// Config.Lease for what larger leases cost in accuracy.
	DefaultLease = 1
)

// Config configures a [Store]. The zero value is the recommended setup.
type Config struct {
	// Prefix starts every key. Processes share state exactly when they
	// use the same Redis and the same Prefix. If empty, DefaultPrefix.
	Prefix string

	// Timeout bounds each call to Redis, including the go-redis client's
	// own retries. If zero, DefaultTimeout. New panics if it is negative.
	Timeout time.Duration

	// RetryInterval is how long, once three calls in a row have failed,
	// every call fails at once with ErrUnavailable before a probe, off
	// any request's path, tries Redis again (the calls keep failing fast
	// meanwhile: nobody waits for the probe). A single failed call makes
	// only its own request fall back. If zero, DefaultRetryInterval. New
	// panics if it is negative.
	RetryInterval time.Duration

	// Lease is how many quota tokens one round trip takes, when that many
	// are available at once; the ones not used at once are spent locally,
	// without a round trip, for as long as the fleet's quota takes to
	// produce them. A lease of k cuts round trips up to k-fold and costs
	// accuracy: each process may hold up to k-1 tokens the others cannot
	// have, so the upstream can see up to N×(k-1) requests (N processes)
	// beyond the quota's burst, and a pause published by another process
	// is seen only at the next round trip, up to k-1 requests later. If
	// zero, DefaultLease. New panics if it is negative.
	Lease int

	// Process names this process among a quota's users (whose number
	// sets each process's share while Redis is down) and in the breaker's
	// fleet reports; it must differ between processes sharing a Prefix. If empty, the host name,
	// the process ID and the start time.
	Process string
}

// settings is a validated Config with defaults applied.
type settings struct {
	prefix        string
	timeout       time.Duration
	retryInterval time.Duration
	lease         int
	process       string
}

func (c Config) normalize() settings {
	s := settings{
		prefix:        c.Prefix,
		timeout:       nonNegative("Timeout", c.Timeout, DefaultTimeout),
		retryInterval: nonNegative("RetryInterval", c.RetryInterval, DefaultRetryInterval),
		lease:         c.Lease,
		process:       c.Process,
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	switch {
	case c.Lease < 0:
		panic(fmt.Sprintf("redisstate: Lease must not be negative, got %d", c.Lease))
	case c.Lease == 0:
		s.lease = DefaultLease
	}
	if s.process == "" {
		host, _ := os.Hostname()
		s.process = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return s
}

func nonNegative(field string, d, def time.Duration) time.Duration {
	if d < 0 {
		panic(fmt.Sprintf("redisstate: %s must not be negative, got %v", field, d))
	}
	if d == 0 {
		return def
	}
	return d
}

// requireContextTimeouts panics when a client of a known type would ignore
// context deadlines on its sockets: go-redis then waits for its own read
// timeout (5 s by default), and no call could be bounded by Timeout.
func requireContextTimeouts(c redis.UniversalClient) {
	var enabled bool
	switch c := c.(type) {
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return // an unknown implementation: its documentation must say
	}
	if !enabled {
		panic("redisstate: the client's Options.ContextTimeoutEnabled must be true, or a call to a hung Redis could not be bounded by Config.Timeout")
	}
}
