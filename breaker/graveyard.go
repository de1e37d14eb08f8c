package breaker

// grave remembers a key evicted while it was not known to be healthy: open,
// or past its open period without a successful probe yet.
type grave struct {
	k     key
	until int64 // end of its open period, ns since Breaker.epoch (≤ now: due a probe)
}

// graveyard remembers up to a fixed number of evicted unhealthy keys, so
// that such a key comes back open until its open period ends and then
// half-open, never closed with a burst let through. When full it forgets
// the oldest grave first: first in, first out, O(1) per operation, and
// a few dozen bytes per grave against the kilobyte of a live key.
//
// It is not safe for concurrent use: Breaker.mu guards it.
type graveyard struct {
	ring  []grave     // graves in burial order from head, wrapping; capacity is the bound
	head  int         // oldest grave once ring is full
	index map[key]int // position in ring of each remembered key
}

func newGraveyard(capacity int) graveyard {
	return graveyard{ring: make([]grave, 0, min(capacity, 1024)), index: make(map[key]int)}
}

// bury remembers k as open until until, replacing an older grave of k.
// capacity bounds how many keys are remembered.
func (g *graveyard) bury(k key, until int64, capacity int) {
	if i, ok := g.index[k]; ok {
		g.ring[i].until = until
		return
	}
	if len(g.ring) < capacity {
		g.index[k] = len(g.ring)
		g.ring = append(g.ring, grave{k: k, until: until})
		return
	}
	old := g.ring[g.head]
	if i, ok := g.index[old.k]; ok && i == g.head {
		delete(g.index, old.k)
	}
	g.ring[g.head] = grave{k: k, until: until}
	g.index[k] = g.head
	g.head = (g.head + 1) % len(g.ring)
}

// exhume forgets k's grave and returns it, if k is remembered. Its slot in
// the ring stays until overwritten, unreachable through index.
func (g *graveyard) exhume(k key) (grave, bool) {
	i, ok := g.index[k]
	if !ok {
		return grave{}, false
	}
	delete(g.index, k)
	return g.ring[i], true
}

// peek returns k's grave, if k is remembered, and leaves it there.
func (g *graveyard) peek(k key) (grave, bool) {
	i, ok := g.index[k]
	if !ok {
		return grave{}, false
	}
	return g.ring[i], true
}

// state is the state a remembered key comes back in at now: open until its
// open period ends, then half-open.
func (g grave) state(now int64) State {
	if now < g.until {
		return Open
	}
	return HalfOpen
}

// len returns how many keys are remembered.
func (g *graveyard) len() int { return len(g.index) }
