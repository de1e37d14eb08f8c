package hedge

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// maxHosts bounds how many per-host estimators a stage keeps (about 4.3 KB
// each, so at most about 2.2 MB). Beyond it the host least recently in use,
// as the CLOCK algorithm approximates it, is forgotten; it borrows the
// fleet's estimate if it comes back.
const maxHosts = 512

// hostSlots is the size of the lookup table: twice maxHosts, so that at
// most half its slots are taken and a probe ends within a few slots.
const hostSlots = 2 * maxHosts

// hosts maps a request's URL host to its estimator, bounded by maxHosts.
//
// A lookup takes no lock: an open-addressing table of atomic pointers to
// immutable entries, probed linearly from the host's hash until the host
// or an empty slot. Insertion and eviction take mu and run one at a time;
// a lookup that races with one may miss a host that an eviction's
// backward shift is moving, and then finds it under mu, so a miss is
// never wrong, only slower.
//
// Eviction is CLOCK (second chance; Corbató 1968), the LRU approximation
// operating systems use for page frames: a lookup only sets its entry's
// used bit, so the hot path never reorders a list; an insertion advances a
// hand around the entries, clearing used bits, and evicts the first entry
// whose bit was already clear. A host in use between two passes of the
// hand is never evicted, and new entries start unused, so a stream of
// hosts seen once (a crawler, a scan of shards) evicts its own kind and not
// the hosts in constant use. Each insertion costs O(1) amortized: every
// step of the hand either evicts or clears a bit that only a later lookup
// sets again.
//
// An evicted host's estimator is emptied and given to the new host, so a
// full table admits a host for one small allocation (its entry). A request
// to the evicted host still in flight may then record one latency, or
// count one start, in the new host's estimator: a sample among hundreds,
// from a host that was not used for a whole turn of the hand.
type hosts struct {
	table atomic.Pointer[[hostSlots]atomic.Pointer[hostEntry]] // nil until the first host
	seed  maphash.Seed                                         // set before table is published

	mu sync.Mutex
	// Guarded by mu.
	ring  []*hostEntry // at most maxHosts, in the order their slots were filled
	hand  int          // the next ring slot the clock examines
	fleet *estimator   // every host's samples; made with the first host
}

// hostEntry is one tracked host. Only used changes once it is published.
type hostEntry struct {
	host string
	hash uint64
	est  *estimator
	used atomic.Bool
}

// get returns host's estimator, creating it (and evicting another) if the
// host is not tracked.
func (h *hosts) get(host string, now time.Time) *estimator {
	if e := h.lookup(host); e != nil {
		if !e.used.Load() { // read first: a store on every request would bounce the cache line
			e.used.Store(true)
		}
		return e.est
	}
	return h.insert(host, now)
}

// lookup returns host's entry, or nil; it takes no lock.
func (h *hosts) lookup(host string) *hostEntry {
	t := h.table.Load()
	if t == nil {
		return nil
	}
	for i := maphash.String(h.seed, host) % hostSlots; ; i = (i + 1) % hostSlots {
		e := t[i].Load()
		if e == nil || e.host == host {
			return e
		}
	}
}

// insert adds host, evicting another if the table is full, and returns
// its estimator.
func (h *hosts) insert(host string, now time.Time) *estimator {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.lookup(host); e != nil { // inserted meanwhile, or missed during a shift
		e.used.Store(true)
		return e.est
	}
	t := h.table.Load()
	if t == nil {
		h.seed = maphash.MakeSeed()
		h.fleet = newEstimator(now, nil)
		t = new([hostSlots]atomic.Pointer[hostEntry])
		h.table.Store(t)
	}
	e := &hostEntry{host: host, hash: maphash.String(h.seed, host)}
	if len(h.ring) < maxHosts {
		e.est = newEstimator(now, h.fleet)
		h.ring = append(h.ring, e)
	} else {
		for {
			v := h.ring[h.hand]
			if v.used.Swap(false) {
				h.hand = (h.hand + 1) % len(h.ring)
				continue // second chance
			}
			h.remove(t, v)
			v.est.reset(now)
			e.est = v.est
			h.ring[h.hand] = e
			h.hand = (h.hand + 1) % len(h.ring)
			break
		}
	}
	i := e.hash % hostSlots
	for t[i].Load() != nil {
		i = (i + 1) % hostSlots
	}
	t[i].Store(e)
	return e.est
}

// remove takes v out of table t by backward shift: each later entry of
// the probe run that may move into the hole does, so that no tombstones
// accumulate and every probe still ends at the first empty slot. h.mu must
// be held.
func (h *hosts) remove(t *[hostSlots]atomic.Pointer[hostEntry], v *hostEntry) {
	hole := v.hash % hostSlots
	for t[hole].Load() != v {
		hole = (hole + 1) % hostSlots
	}
	for j := (hole + 1) % hostSlots; ; j = (j + 1) % hostSlots {
		e := t[j].Load()
		if e == nil {
			break
		}
		// e may fill the hole unless its home lies cyclically in
		// (hole, j]: probes for it start there and would not reach the
		// hole.
		if home := e.hash % hostSlots; (home-hole-1+hostSlots)%hostSlots < (j-hole+hostSlots)%hostSlots {
			continue
		}
		t[hole].Store(e) // before its old slot is reused: a lookup may see it twice, or miss it and retry under mu
		hole = j
	}
	t[hole].Store(nil)
}

// len returns how many hosts are tracked.
func (h *hosts) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ring)
}
