package hedge

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxHosts bounds how many per-host estimators a stage keeps (about 2.7 KB
// each, so at most about 1.4 MB). Beyond it the host least recently in use,
// as the CLOCK algorithm approximates it, is forgotten; it borrows the
// fleet's estimate if it comes back.
const maxHosts = 512

// hosts maps a request's URL host to its estimator, bounded by maxHosts.
//
// Eviction is CLOCK (second chance; Corbató 1968), the LRU approximation
// operating systems use for page frames: a lookup only sets its entry's
// used bit, under the read lock, so the hot path never takes the write lock
// or reorders a list; an insertion advances a hand around the entries,
// clearing used bits, and evicts the first entry whose bit was already
// clear. A host in use between two passes of the hand is never evicted, and
// new entries start unused, so a stream of hosts seen once (a crawler, a
// scan of shards) evicts its own kind and not the hosts in constant use.
// Each insertion costs O(1) amortized: every step of the hand either
// evicts or clears a bit that only a later lookup sets again.
type hosts struct {
	mu sync.RWMutex
	// Guarded by mu; the entries' used bits are atomic so that lookups
	// may set them under the read lock.
	index map[string]*hostEntry
	ring  []*hostEntry // at most maxHosts, in insertion order of their slots
	hand  int          // the next slot the clock examines
	fleet *estimator   // every host's samples; made with the first host
}

type hostEntry struct {
	host string
	est  *estimator
	used atomic.Bool
}

// get returns host's estimator, creating it (and evicting another) if the
// host is not tracked.
func (h *hosts) get(host string, now time.Time) *estimator {
	h.mu.RLock()
	e := h.index[host]
	h.mu.RUnlock()
	if e != nil {
		if !e.used.Load() { // read first: a store on every request would bounce the cache line
			e.used.Store(true)
		}
		return e.est
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e = h.index[host]; e != nil {
		e.used.Store(true)
		return e.est
	}
	if h.index == nil {
		h.index = make(map[string]*hostEntry)
		h.fleet = newEstimator(now, nil)
	}
	est := newEstimator(now, h.fleet)
	if len(h.ring) < maxHosts {
		h.ring = append(h.ring, &hostEntry{host: host, est: est})
		h.index[host] = h.ring[len(h.ring)-1]
		return est
	}
	for {
		v := h.ring[h.hand]
		h.hand = (h.hand + 1) % len(h.ring)
		if v.used.Swap(false) {
			continue // second chance
		}
		delete(h.index, v.host)
		// A new entry, not v reused: a lookup that found v just before
		// may still be reading its estimator.
		e = &hostEntry{host: host, est: est}
		h.ring[(h.hand+len(h.ring)-1)%len(h.ring)] = e
		h.index[host] = e
		return est
	}
}
