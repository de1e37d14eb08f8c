package hedge

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// unknownRefusal is how long a replica is remembered as refusing when the
// refusing stage could not say when it would accept again (a half-open
// breaker whose probe is in flight): about as long as a probe takes, and
// short enough that a replica which recovered is soon preferred again.
const unknownRefusal = time.Second

// errNoReplica is a hedge's build error when Replicas.Pick chose no
// replica for it.
var errNoReplica = errors.New("hedge: Replicas.Pick chose no replica")

// choose returns the replica, of n, that the next hedge of a request goes
// to. tried lists the replicas of the request's earlier attempts, in
// order; refusing reports whether an inner stage recently refused a
// replica; turn breaks ties.
//
// The rules, in order: a replica not known to refuse before one that is
// (a hedge to a refusing replica is a rejection: it can neither win nor
// cancel anything, so it helps no more than no hedge); then one this
// request has not tried; then the one it tried least recently (so once
// every replica has been tried, hedges go round again in the same order).
// Replicas equal on all of these — the untried ones, usually — take turns:
// turn modulo their number picks one, so that hedges of a busy stage
// spread evenly over them.
func choose(n int, tried []int, refusing func(int) bool, turn uint32) int {
	// A rank is lower for a better replica: 0 untried, k+1 when attempt k
	// (0-based) was its latest, plus len(tried)+1 if it is refusing.
	// refusing is asked once per replica: its answer may change meanwhile.
	var buf [32]int
	ranks := buf[:0]
	if n > len(buf) {
		ranks = make([]int, 0, n)
	}
	best, ties := -1, 0
	for i := range n {
		r := 0
		for k, j := range tried {
			if j == i {
				r = k + 1
			}
		}
		if refusing(i) {
			r += len(tried) + 1
		}
		ranks = append(ranks, r)
		switch {
		case best < 0 || r < best:
			best, ties = r, 1
		case r == best:
			ties++
		}
	}
	nth := int(turn % uint32(ties))
	for i, r := range ranks {
		if r == best {
			if nth == 0 {
				return i
			}
			nth--
		}
	}
	panic("hedge: no replica has the best rank") // unreachable: best is some replica's rank
}

// refusing reports whether replica i is known to refuse requests at now.
func (s *replicaSet) refusing(i int, now time.Time) bool {
	until := s.list[i].refusedUntil.Load()
	return until != 0 && int64(now.Sub(s.epoch)) < until
}

// learn records how an attempt sent to replica i fared. A rejection — an
// inner stage, such as an open breaker keyed by the replica's URL, refused
// to send it — marks the replica as refusing until the stage said it would
// accept again ([idempotency.Rejection]'s RetryAfter, or unknownRefusal if
// it did not say); any other outcome means the attempt went through, and
// clears the mark. The hedge stage and the breaker never import each
// other: the rejection's own interface carries all the race needs.
func (s *replicaSet) learn(i int, kind idempotency.Kind, err error, now time.Time) {
	rep := &s.list[i]
	if kind != idempotency.Rejected {
		if rep.refusedUntil.Load() != 0 { // read first: a store per request would bounce the cache line
			rep.refusedUntil.Store(0)
		}
		return
	}
	wait := unknownRefusal
	if rej, ok := idempotency.AsRejection(err); ok && rej.RetryAfter() > 0 {
		wait = rej.RetryAfter()
	}
	rep.refusedUntil.Store(max(int64(now.Add(wait).Sub(s.epoch)), 1))
}

// failoverLocked reports whether an attempt an inner stage refused for its
// replica should fire the next hedge at once: with replicas, when some
// replica the request has not tried is not known to refuse. Without
// replicas a rejection fires nothing, since the next hedge would meet the
// same stage with the same key. The refused attempt's replica is already
// known to refuse (land records it first).
func (r *race) failoverLocked(now time.Time) bool {
	if r.first.replica == 0 {
		return false
	}
	var buf [maxHedgesLimit + 1]int
	tried := r.triedLocked(buf[:0])
	s := r.t.h.replicas
	for i := range s.list {
		if !slices.Contains(tried, i) && !s.refusing(i, now) {
			return true
		}
	}
	return false
}

// track records that replica i's originals are tracked under the URL host
// host, for calmElsewhereLocked. It stores (and allocates) only when the
// spelling changes: a store per request would bounce the cache line.
func (s *replicaSet) track(i int, host string) {
	if p := s.list[i].tracked.Load(); p == nil || *p != host {
		spelt := host
		s.list[i].tracked.Store(&spelt)
	}
}

// calm reports whether replica i's own requests are not overrunning their
// delay in a storm at now (see estimator.calm); true when none of its
// originals is tracked, as nothing says it is slow.
func (s *replicaSet) calm(i int, hs *hosts, q float64, now time.Time) bool {
	p := s.list[i].tracked.Load()
	if p == nil {
		return true
	}
	e := hs.lookup(*p)
	return e == nil || e.est.calm(q, now)
}

// calmElsewhereLocked reports whether the request's next hedge goes to
// another replica than any it tried, and every replica it may go to is
// calm at now: its own requests' delay hedges within their limit (see
// estimator.calm), or it has none tracked. It is what lets a replica
// hedge escape one replica's stall (a pause, a noisy neighbour) while
// that replica's own requests all overrun their delay: the copy adds no
// load to the slow replica, and the budget still bounds the extra load.
// When the replicas all slow down together (a shared dependency's step
// up), they all reach their limits and the hedges are put off as without
// replicas. It is false without replicas, with Replicas.Pick (whose
// choice is the user's, made after this), and when every replica is
// tried or known to refuse (the hedge may then go back to a tried one).
func (r *race) calmElsewhereLocked(q float64, now time.Time) bool {
	s := r.t.h.replicas
	if r.first.replica == 0 || s.pick != nil {
		return false
	}
	var buf [maxHedgesLimit + 1]int
	tried := r.triedLocked(buf[:0])
	candidates := false
	for i := range s.list {
		if slices.Contains(tried, i) || s.refusing(i, now) {
			continue // choose prefers the others
		}
		candidates = true
		if !s.calm(i, &r.t.h.hosts, q, now) {
			return false
		}
	}
	return candidates
}

// route sends hedge a, built as areq (the race's own copy), to another
// replica. It is the one place where a hedge's replica is chosen: by
// Replicas.Pick if set, else by [choose]. It fails, and the hedge is not
// sent, only when Pick chose no listed replica.
func (r *race) route(a *attemptCtx, areq *http.Request) error {
	s := r.t.h.replicas
	now := time.Now()
	var i int
	if s.pick != nil {
		r.mu.Lock()
		tried := r.triedLocked(nil)
		r.mu.Unlock()
		var refusing []int
		for j := range s.list {
			if s.refusing(j, now) {
				refusing = append(refusing, j)
			}
		}
		i = s.pick(PickInfo{Request: r.caller, Attempt: a.n, Tried: tried, Refusing: refusing})
		if i < 0 || i >= len(s.list) {
			return errNoReplica
		}
		r.mu.Lock()
		a.replica = int16(i + 1)
		r.mu.Unlock()
	} else {
		var buf [maxHedgesLimit + 1]int
		r.mu.Lock()
		i = choose(len(s.list), r.triedLocked(buf[:0]), func(j int) bool { return s.refusing(j, now) }, s.turn.Add(1))
		a.replica = int16(i + 1)
		r.mu.Unlock()
	}
	areq.URL = s.target(i, r.req.URL)
	areq.Host = s.hostHeader(r.req)
	return nil
}

// triedLocked appends to buf the replica of each attempt whose replica is
// chosen, in attempt order, and returns it.
func (r *race) triedLocked(buf []int) []int {
	if i := r.first.replicaIndex(); i >= 0 {
		buf = append(buf, i)
	}
	for _, h := range r.hedges {
		if i := h.replicaIndex(); i >= 0 {
			buf = append(buf, i)
		}
	}
	return buf
}
