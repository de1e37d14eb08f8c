package redisstate

import (
	"github.com/redis/go-redis/v9"
)

// Store keeps the throttle's and the breaker's per-host state in Redis, so
// that every process using the same Redis and Config.Prefix shares it. It
// is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	s      settings
	health health
	leases leases
}

// New returns a store on rdb and starts connecting to it in the background
// (see [Store.Ready]). The client's Options.ContextTimeoutEnabled
// must be true: without it go-redis ignores context deadlines on its
// sockets and no call could be bounded; New panics, naming the field, for
// a *redis.Client, *redis.ClusterClient or *redis.Ring without it. New
// panics on an invalid Config too.
func New(rdb redis.UniversalClient, cfg Config) *Store {
	if rdb == nil {
		panic("redisstate: New with a nil client")
	}
	requireContextTimeouts(rdb)
	s := &Store{rdb: rdb, s: cfg.normalize()}
	// Connect off the caller's path: dialing and loading the scripts can
	// take longer than Config.Timeout, which bounds only calls on a
	// request's path. Until the probe succeeds, calls fail fast and the
	// stages use their local state; Ready waits for it.
	s.health.state.Store(stateProbing)
	go s.probe()
	return s
}

// keys returns the Redis keys of one shared key's state. The braces are a
// Redis Cluster hash tag: every key of one shared key lands in one slot,
// which a script touching several of them needs.
func (s *Store) keys(key string, suffixes ...string) []string {
	out := make([]string, len(suffixes))
	for i, suf := range suffixes {
		out[i] = s.s.prefix + "{" + key + "}:" + suf
	}
	return out
}
