package redisstate

import (
	"sync"
	"time"
)

// leases holds, per key, the quota tokens this process took from Redis in
// one round trip and has not used yet (Config.Lease). It is safe for
// concurrent use.
type leases struct {
	mu sync.Mutex       // guards m
	m  map[string]lease // keys with tokens left; expired ones are swept lazily
}

// lease is a batch of tokens, good until expires: as long as the fleet's
// quota takes to produce them, so that a process cannot hoard tokens and
// spend them later in a burst the shared schedule never saw.
type lease struct {
	tokens  int
	users   int // the fleet's size when the tokens were taken
	expires time.Time
}

// sweepAbove is the map size above which adding a lease first drops the
// expired ones, which keeps the map as small as the set of keys used in
// the last few emission intervals, with no goroutine.
const sweepAbove = 1024

// use spends one of key's leased tokens, if it has any left.
func (l *leases) use(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	le, ok := l.m[key]
	if !ok {
		return false
	}
	if now.After(le.expires) {
		delete(l.m, key)
		return false
	}
	if le.tokens--; le.tokens == 0 {
		delete(l.m, key)
	} else {
		l.m[key] = le
	}
	return true
}

// users returns the fleet's size key's lease was taken with.
func (l *leases) users(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[key].users
}

// add keeps n more tokens for key until expires, taken when users
// processes shared its quota.
func (l *leases) add(key string, n, users int, now, expires time.Time) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]lease)
	}
	if len(l.m) > sweepAbove {
		for k, le := range l.m {
			if now.After(le.expires) {
				delete(l.m, k)
			}
		}
	}
	le := l.m[key]
	le.tokens += n
	le.users = users
	le.expires = expires
	l.m[key] = le
}

// drop forgets key's tokens: a pause makes them stale.
func (l *leases) drop(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}
