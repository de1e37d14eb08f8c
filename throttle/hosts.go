package throttle

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/internal/hostkey"
)

// host is one upstream's state: its gate, its pacing, its adaptive
// throttler and its concurrency cap, each safe for concurrent use on its
// own.
type host struct {
	key  hostkey.Key
	name string // key.String(), computed once

	debut    *debut // holds requests until the host's first answer
	gate     gate
	pace     *pacer
	adaptive *adaptive
	slots    *slots // nil: no cap
	share    share  // this process's part of a shared quota, for when the store fails

	// pushedBack is when the host last answered throttled or asked for a
	// pause (Unix ns; 0: never): hedges stay away for HedgeHoldoff.
	pushedBack atomic.Int64

	busy atomic.Int32 // requests waiting or in flight: never evicted while > 0
	// sent counts the requests sent to the host and not yet answered (or
	// abandoned): a request that went while no other was in flight is
	// alone, and a bare 429 to it is no evidence of a quota (see
	// pacer.learn).
	sent     atomic.Int32
	lastUsed atomic.Int64 // ns since the registry's epoch

	prev, next *host // recency list, most recent first; guarded by registry.mu
}

// done ends a caller's use of h begun by registry.acquire.
func (h *host) done() { h.busy.Add(-1) }

// evictable reports whether forgetting h at now loses nothing that
// matters: nobody waits on it or has a request in flight, and its gate
// holds no pause. A learned rate is lost, which is why IdleTTL is long.
func (h *host) evictable(now time.Time) bool {
	return h.busy.Load() == 0 && !h.gate.closedAt(now)
}

// evictTries is how many busy hosts at the cold end of the recency list
// are skipped (and moved to the hot end) before the registry gives up and
// grows past MaxHosts: it bounds the work of one insertion.
const evictTries = 8

// registry holds the hosts, bounded in number, least recently used
// forgotten first. Lookups of known hosts take a read lock and write
// nothing shared unless the host's recency stamp is old, so concurrent
// requests to one host do not contend; insertions, evictions and recency
// moves take the write lock and are O(1). Nothing runs in the background:
// idle hosts are forgotten when a new host is inserted.
type registry struct {
	epoch      time.Time // origin of lastUsed stamps
	idleTTL    time.Duration
	maxHosts   int
	touchEvery time.Duration // minimum time between two recency moves of a host
	newHost    func(hostkey.Key, time.Time) *host

	mu    sync.RWMutex // guards hosts and the recency list
	hosts map[hostkey.Key]*host
	list  host // sentinel: list.next is the most recent, list.prev the least
}

func newRegistry(now time.Time, s *settings, newHost func(hostkey.Key, time.Time) *host) *registry {
	r := &registry{
		epoch:      now,
		idleTTL:    s.idleTTL,
		maxHosts:   s.maxHosts,
		touchEvery: min(time.Second, s.idleTTL/16),
		newHost:    newHost,
		hosts:      make(map[hostkey.Key]*host),
	}
	r.list.next, r.list.prev = &r.list, &r.list
	return r
}

// acquire returns k's host, creating it if needed, marks it used at now
// and counts the caller as busy on it; the caller must call h.done. The
// count is taken under the registry's lock, so an eviction cannot slip in
// between the lookup and it.
func (r *registry) acquire(k hostkey.Key, now time.Time) *host {
	stamp := int64(now.Sub(r.epoch))
	r.mu.RLock()
	h := r.hosts[k]
	if h != nil {
		h.busy.Add(1)
	}
	r.mu.RUnlock()
	if h == nil {
		return r.insert(k, now, stamp)
	}
	if stamp-h.lastUsed.Load() >= int64(r.touchEvery) {
		r.mu.Lock()
		if h.prev != nil { // still registered
			r.unlink(h)
			r.pushFront(h)
		}
		r.mu.Unlock()
		h.lastUsed.Store(stamp)
	}
	return h
}

// insert adds k's host unless another goroutine just did, forgetting idle
// hosts first. The host is built before the lock is taken: building it
// calls Config.HostRate, a user function, which may be slow or panic.
func (r *registry) insert(k hostkey.Key, now time.Time, stamp int64) *host {
	fresh := r.newHost(k, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.hosts[k]; h != nil {
		h.busy.Add(1)
		return h
	}
	r.evict(now, stamp)
	h := fresh
	h.lastUsed.Store(stamp)
	h.busy.Add(1)
	r.hosts[k] = h
	r.pushFront(h)
	return h
}

// evict forgets hosts from the cold end of the list while they are idle
// for IdleTTL or the registry is full. A busy host found there is moved to
// the hot end, at most evictTries times per call. r.mu is held.
func (r *registry) evict(now time.Time, stamp int64) {
	for tries := 0; tries < evictTries; {
		h := r.list.prev
		if h == &r.list {
			return
		}
		full := len(r.hosts) >= r.maxHosts
		if !full && stamp-h.lastUsed.Load() < int64(r.idleTTL) {
			return
		}
		if !h.evictable(now) {
			r.unlink(h)
			r.pushFront(h)
			tries++
			continue
		}
		r.unlink(h)
		delete(r.hosts, h.key)
	}
}

func (r *registry) pushFront(h *host) {
	h.prev, h.next = &r.list, r.list.next
	r.list.next.prev = h
	r.list.next = h
}

func (r *registry) unlink(h *host) {
	h.prev.next = h.next
	h.next.prev = h.prev
	h.prev, h.next = nil, nil
}

// all returns the registered hosts, most recent first.
func (r *registry) all() []*host {
	r.mu.RLock()
	defer r.mu.RUnlock()
	hs := make([]*host, 0, len(r.hosts))
	for h := r.list.next; h != &r.list; h = h.next {
		hs = append(hs, h)
	}
	return hs
}
