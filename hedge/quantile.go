package hedge

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// MinSamples is how much evidence adaptive hedging needs before it trusts a
// host's latency quantile: the host's decayed sample weight (see
// [Config]) must be at least MinSamples latencies. Until then the host
// borrows the quantile of every host the stage has seen, and before that
// uses [Config.Delay]. With few samples the estimate sits near the largest
// one, which errs towards hedging late.
const MinSamples = 20

// How the estimator forgets. It keeps two decaying histograms of the same
// samples, a short memory and a long one. Every count of the short one
// halves after a span of samples or after decayPeriod, whichever comes
// first; the long one's span and period are longSpans times as long. The
// estimate is the long memory's quantile, accurate in a steady state,
// unless the recent samples disagree with it: if more than shiftFactor ×
// (1 − q) of the short memory lies above the long memory's quantile, or
// less than (1 − q) / shiftFactor at or above it, hedging at the long
// memory's delay would hedge twice as often as asked or half as often,
// so the upstream has changed, and the short memory's quantile is the one
// to trust. Comparing shares rather than latencies is what matters: 20%
// below the new p95 of a narrow distribution is a delay that hedges half
// of all requests.
//
// Counting in samples is what lets a busy host follow a change fast without
// making a quiet one noisy. The span is sized by the quantile so that it
// holds decayTail samples above it: 320 samples for the default p95, 1,600
// for p99. The short memory then weighs about 1.44 spans (about 23 samples
// above the quantile), the long one eight times as much. After a step, old
// samples keep half of the short memory after one span of new ones and
// 1/32 after five: at the default p95 and 1,000 requests per second the
// estimate moves within 0.1 s of a step up (the new samples soon hold the
// top 5%) and settles within 1.5 s of a step down (the old ones must drop
// below 5%). The periods bound how long a quiet host (below about 64
// requests per second at p95) remembers: an idle host's samples fade, and
// once the long memory weighs less than MinSamples the host borrows again.
const (
	decayTail    = 16
	minDecaySpan = 64
	maxDecaySpan = 1 << 14
	longSpans    = 8
	decayPeriod  = 5 * time.Second
	defaultSpan  = 320 // decaySpan(DefaultQuantile), until a quantile is asked for

	// shiftFactor is how far the recent share above the long memory's
	// quantile must stray from 1 − q for the short memory to take over.
	// The short memory holds about 900 samples' worth of independent
	// evidence (its weights decay), so at p95 the share's noise is about
	// 0.7 points: 10% and 2.5% are 7 and 3.5 standard deviations away, and
	// noise alone rarely crosses them.
	shiftFactor = 2

	// recomputeEvery is how many new samples make the cached quantile
	// stale. Scanning the histograms costs far more than a request's other
	// work; amortised over 16 samples it does not, and 16 is a small
	// fraction of a span, so the cache never lags a change much.
	recomputeEvery = 16
)

// decaySpan returns how many samples halve the short memory of an
// estimator read at quantile q.
func decaySpan(q float64) uint32 {
	return uint32(min(max(math.Round(decayTail/(1-q)), minDecaySpan), maxDecaySpan))
}

// estimator is a streaming latency quantile estimator over a pair of
// exponentially decaying histograms (see decayTail): bounded memory (about
// 2.7 KB), lock-free recording (atomic adds, no allocation), and a cached
// quantile. It is safe for concurrent use.
//
// Time enters only as offsets from the estimator's birth, so it is
// monotonic when the instants passed in carry a monotonic reading (as
// time.Now's do). Counts are approximate while a halving runs; a hedge
// delay needs a fair estimate, not an exact one.
type estimator struct {
	short, long histogram

	born   time.Time
	span   atomic.Uint32 // decaySpan of the quantile read; 0 until one is
	seq    atomic.Uint64 // samples ever recorded
	decays atomic.Uint64 // halvings so far, to tell when the cache is stale

	// fleet is the estimator of every host of the stage, which this one
	// borrows from while its own weight is short; nil for the fleet's own.
	fleet *estimator

	mu sync.Mutex // serializes halving and recomputation; never waited for (TryLock)
	// Written under mu, read without it.
	cached       atomic.Int64 // last quantile in ns; < 0 if too little weight: the negated warm-up guess, or -1
	cachedSeq    atomic.Uint64
	cachedDecays atomic.Uint64
	cachedQ      atomic.Uint64 // math.Float64bits of the quantile cached
}

func newEstimator(now time.Time, fleet *estimator) *estimator {
	e := &estimator{born: now, fleet: fleet}
	e.cached.Store(-1)
	e.cachedDecays.Store(math.MaxUint64) // nothing cached yet
	return e
}

// record adds one latency observed at now, and to the fleet's estimator.
func (e *estimator) record(d time.Duration, now time.Time) {
	b := bucketOf(d)
	e.short.add(b)
	e.long.add(b)
	// The long memory is due only when the short one is: its span and
	// period are multiples of the short one's.
	if seq := e.seq.Add(1); seq-e.short.halvedSeq.Load() >= e.decaySpan() || e.due(&e.short, now, decayPeriod) > 0 {
		e.decay(now)
	}
	if e.fleet != nil {
		e.fleet.record(d, now)
	}
}

// decaySpan returns the short memory's span: sized by the quantile read, or
// the default quantile's before the first read.
func (e *estimator) decaySpan() uint64 {
	if n := e.span.Load(); n != 0 {
		return uint64(n)
	}
	return defaultSpan
}

// due is how many of h's decay periods passed since its last halving. A
// clock that steps back is due none.
func (e *estimator) due(h *histogram, now time.Time, period time.Duration) int64 {
	return max(int64(now.Sub(e.born))-h.halvedAt.Load(), 0) / int64(period)
}

// decay halves each memory whose span of samples or whose periods have
// passed, unless another goroutine holds mu (a later call will).
func (e *estimator) decay(now time.Time) {
	if !e.mu.TryLock() {
		return
	}
	defer e.mu.Unlock()
	seq, span := e.seq.Load(), e.decaySpan()
	halved := e.decayOne(&e.short, now, seq, span, decayPeriod)
	halved = e.decayOne(&e.long, now, seq, span*longSpans, decayPeriod*longSpans) || halved
	if halved {
		e.decays.Add(1)
	}
}

// decayOne halves h once if span samples arrived since its last halving,
// and once per period that passed. e.mu must be held.
func (e *estimator) decayOne(h *histogram, now time.Time, seq, span uint64, period time.Duration) bool {
	shift := e.due(h, now, period)
	if shift == 0 && seq-h.halvedSeq.Load() >= span {
		shift = 1
	}
	if shift == 0 {
		return false
	}
	h.halve(shift, seq)
	h.halvedAt.Store(int64(now.Sub(e.born)))
	return true
}

// quantile returns the q-quantile of the host's recent latencies. While
// the host's own samples weigh less than MinSamples it has only a cautious
// guess from the few there are, from five on: twice the largest, since the
// next latency of a continuous distribution exceeds the largest of n with
// probability 1/(n+1) and the doubling is for heavy tails, but, from ten
// samples on, at most four times the median, so that one stall among the
// first samples does not set the delay for the rest of the warm-up. (A guess near the body, such as twice the
// second largest, hedges more during the warm-up, and the originals those
// hedges cancel enter the estimate as lower bounds taken too early: the
// delay then sits below the true quantile for thousands of samples.) It
// borrows instead the
// fleet's quantile, or the guess if that is later: erring late, since a
// hedge that fires too early doubles load, and one that fires late only
// helps less. Without either it reports false, with the guess (0 if the
// host has no sample yet).
func (e *estimator) quantile(q float64, now time.Time) (time.Duration, bool) {
	d, ok := e.own(q, now) // d is the guess when !ok
	if ok || e.fleet == nil {
		return d, ok
	}
	if f, ok := e.fleet.own(q, now); ok {
		return max(f, d), true
	}
	return d, false
}

// own returns the q-quantile of this estimator's samples, and false if they
// weigh less than MinSamples (with the warm-up guess, or 0). The result is
// cached and recomputed only after recomputeEvery new samples or a halving.
func (e *estimator) own(q float64, now time.Time) (time.Duration, bool) {
	if e.span.Load() == 0 {
		e.span.Store(decaySpan(q))
		if e.fleet != nil {
			e.fleet.span.CompareAndSwap(0, decaySpan(q))
		}
	}
	if e.due(&e.short, now, decayPeriod) > 0 {
		e.decay(now) // a quiet host's samples age without new ones
	}
	seq, decays := e.seq.Load(), e.decays.Load()
	if e.cachedDecays.Load() == decays && seq-e.cachedSeq.Load() < recomputeEvery &&
		e.cachedQ.Load() == math.Float64bits(q) {
		if c := e.cached.Load(); c >= 0 || seq-e.cachedSeq.Load() == 0 {
			return cachedResult(c)
		}
		// Too little weight when cached: new samples may have ended the
		// warm-up, so do not wait for recomputeEvery more.
	}
	if !e.mu.TryLock() {
		return cachedResult(e.cached.Load()) // someone else is recomputing: a slightly stale value will do
	}
	d := e.compute(q)
	e.cached.Store(int64(d))
	e.cachedSeq.Store(seq)
	e.cachedDecays.Store(decays)
	e.cachedQ.Store(math.Float64bits(q))
	e.mu.Unlock()
	return cachedResult(int64(d))
}

// cachedResult decodes a cached value: a quantile, or (negative) the
// warm-up guess negated, or -1 for nothing.
func cachedResult(c int64) (time.Duration, bool) {
	switch {
	case c >= 0:
		return time.Duration(c), true
	case c == -1:
		return 0, false
	}
	return time.Duration(-c), false
}

// compute returns the long memory's q-quantile, or the short memory's if
// the recent samples disagree with it (see shiftFactor). If the samples
// weigh less than MinSamples it returns the negated warm-up guess (see
// quantile), or -1 without samples.
func (e *estimator) compute(q float64) time.Duration {
	seq := e.seq.Load()
	long, ok := e.long.quantileBucket(q, seq)
	if !ok {
		// The short memory never weighs more than the long one.
		if g, ok := e.long.guess(); ok {
			return -g
		}
		return -1
	}
	if above, atOrAbove, ok := e.short.tail(long, seq); ok &&
		(above > shiftFactor*(1-q) || atOrAbove < (1-q)/shiftFactor) {
		if short, ok := e.short.quantileBucket(q, seq); ok {
			return upperBound(short)
		}
	}
	return upperBound(long)
}
