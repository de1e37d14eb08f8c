package hedge

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// MinSamples is how many latencies adaptive hedging needs from a host, in
// the estimator's window, before it trusts their quantile; until then it
// uses [Config.Delay]. With few samples the estimate sits near the largest
// one, which errs towards hedging late.
const MinSamples = 20

// The estimator is a log-linear histogram: 16 linear sub-buckets per power
// of two, so a bucket is at most 1/16 (6.25%) wide, from 2^15 ns (33 µs) to
// 2^36 ns (69 s). Shorter latencies count in the first bucket and longer
// ones in the last, which only matters if the hedge delay is clamped there
// anyway.
const (
	subBits    = 4
	subBuckets = 1 << subBits
	minExp     = 15
	maxExp     = 35
	numBuckets = (maxExp - minExp + 1) * subBuckets

	// estimatorPeriod is how often the histogram starts a new generation.
	// A quantile reads the current and the previous generation, so it
	// reflects the last 10 to 20 seconds: old samples age out without a
	// background goroutine.
	estimatorPeriod = 10 * time.Second

	// recomputeEvery is how many new samples make the cached quantile
	// stale. Scanning 2 × 336 counters costs far more than a request's
	// other work; amortised over 16 samples it does not.
	recomputeEvery = 16
)

// estimator is a streaming latency quantile estimator with bounded memory
// (about 3 KB) and lock-free recording. It is safe for concurrent use.
//
// Counts are approximate while a generation rotates (a sample recorded
// during the clear may be lost); a hedge delay needs a fair estimate, not an
// exact one.
type estimator struct {
	gens   [2][numBuckets]atomic.Uint32
	counts [2]atomic.Uint32
	epoch  atomic.Int64  // now / estimatorPeriod of the current generation, at index epoch & 1
	seq    atomic.Uint64 // samples ever recorded, to tell when the cache is stale

	mu sync.Mutex // serializes rotation and recomputation; never held on the hot path (TryLock)
	// Written under mu, read without it.
	cached      atomic.Int64 // last quantile in ns; -1 if too few samples
	cachedSeq   atomic.Uint64
	cachedEpoch atomic.Int64
	cachedQ     atomic.Uint64 // math.Float64bits of the quantile cached
}

func newEstimator(now time.Time) *estimator {
	e := &estimator{}
	e.epoch.Store(epochOf(now))
	e.cached.Store(-1)
	e.cachedEpoch.Store(-1)
	return e
}

func epochOf(now time.Time) int64 { return now.UnixNano() / int64(estimatorPeriod) }

// bucketOf returns the histogram bucket of a latency.
func bucketOf(d time.Duration) int {
	ns := uint64(max(d, 0))
	exp := bits.Len64(ns) - 1
	switch {
	case exp < minExp:
		return 0
	case exp > maxExp:
		return numBuckets - 1
	}
	sub := int(ns>>(exp-subBits)) & (subBuckets - 1)
	return (exp-minExp)*subBuckets + sub
}

// upperBound returns the exclusive upper edge of bucket i. Reporting the
// upper edge rounds the quantile up, so the hedge rate stays at or below
// 1 − quantile rather than above it.
func upperBound(i int) time.Duration {
	exp := minExp + i/subBuckets
	sub := i % subBuckets
	return time.Duration(uint64(subBuckets+sub+1) << (exp - subBits))
}

// record adds one latency observed at now.
func (e *estimator) record(d time.Duration, now time.Time) {
	e.rotate(now)
	g := e.epoch.Load() & 1
	e.gens[g][bucketOf(d)].Add(1)
	e.counts[g].Add(1)
	e.seq.Add(1)
}

// rotate starts a new generation when now has entered a new period,
// clearing the generation that falls out of the window (both, after a
// pause longer than a period). A clock that steps back keeps the counts.
func (e *estimator) rotate(now time.Time) {
	ep := epochOf(now)
	cur := e.epoch.Load()
	if ep <= cur || !e.mu.TryLock() {
		return // another goroutine is rotating; recording into the old generation is harmless
	}
	defer e.mu.Unlock()
	cur = e.epoch.Load()
	if ep <= cur {
		return
	}
	e.clear(int(ep & 1))
	if ep > cur+1 {
		e.clear(int((ep + 1) & 1))
	}
	e.epoch.Store(ep)
}

func (e *estimator) clear(g int) {
	for i := range e.gens[g] {
		e.gens[g][i].Store(0)
	}
	e.counts[g].Store(0)
}

// quantile returns the q-quantile of the samples in the window, and false if
// there are fewer than MinSamples. The result is cached and recomputed only
// after recomputeEvery new samples or a rotation.
func (e *estimator) quantile(q float64, now time.Time) (time.Duration, bool) {
	e.rotate(now)
	seq, ep := e.seq.Load(), e.epoch.Load()
	if e.cachedEpoch.Load() == ep && seq-e.cachedSeq.Load() < recomputeEvery &&
		e.cachedQ.Load() == math.Float64bits(q) {
		c := e.cached.Load()
		if c >= 0 || e.counts[0].Load()+e.counts[1].Load() < MinSamples {
			return time.Duration(c), c >= 0
		}
		// Warm-up just ended: do not wait for recomputeEvery more samples.
	}
	if e.mu.TryLock() {
		d := e.compute(q)
		e.cached.Store(int64(d))
		e.cachedSeq.Store(seq)
		e.cachedEpoch.Store(ep)
		e.cachedQ.Store(math.Float64bits(q))
		e.mu.Unlock()
		return d, d >= 0
	}
	c := e.cached.Load() // someone else is recomputing: a slightly stale value will do
	return time.Duration(c), c >= 0
}

// compute scans the histogram; it returns -1 if there are too few samples.
func (e *estimator) compute(q float64) time.Duration {
	total := uint64(e.counts[0].Load()) + uint64(e.counts[1].Load())
	if total < MinSamples {
		return -1
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	last := -1
	for i := range numBuckets {
		c := uint64(e.gens[0][i].Load()) + uint64(e.gens[1][i].Load())
		if c == 0 {
			continue
		}
		seen += c
		last = i
		if seen >= rank {
			return upperBound(i)
		}
	}
	if last < 0 {
		return -1 // counts raced with a clear
	}
	return upperBound(last)
}

// maxHosts bounds how many per-host estimators a stage keeps (about 3 KB
// each). Beyond it an arbitrary host is forgotten; it warms up again if it
// comes back.
const maxHosts = 256

// hosts maps a request's URL host to its estimator.
type hosts struct {
	mu sync.RWMutex
	m  map[string]*estimator // guarded by mu
}

func (h *hosts) get(host string, now time.Time) *estimator {
	h.mu.RLock()
	e := h.m[host]
	h.mu.RUnlock()
	if e != nil {
		return e
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e = h.m[host]; e != nil {
		return e
	}
	if h.m == nil {
		h.m = make(map[string]*estimator)
	}
	if len(h.m) >= maxHosts {
		for k := range h.m {
			delete(h.m, k)
			break
		}
	}
	e = newEstimator(now)
	h.m[host] = e
	return e
}
