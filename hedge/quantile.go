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
// uses [Config.WarmupDelay]. With few samples the estimate sits near the largest
// one, which errs towards hedging late.
const MinSamples = 20

// How the estimator forgets. It keeps two memories of the same samples:
// a long one, a decaying histogram accurate in a steady state, and a short
// one, the samples of the current generation and the one before it. The
// estimate is the long memory's quantile unless the short one disagrees
// with it: if more than shiftFactor × (1 − q) of the short memory lies
// above the long memory's quantile, or less than (1 − q) / shiftFactor at
// or above it, hedging at the long memory's delay would hedge twice as
// often as asked or half as often, so the upstream has changed, and the
// short memory's quantile is the one to trust. Comparing shares rather
// than latencies is what matters: 20% below the new p95 of a narrow
// distribution is a delay that hedges half of all requests.
//
// A generation ends after a span of samples (sized by the quantile so that
// it holds decayTail samples above it: 320 for the default p95, 1,600 for
// p99), or after genPeriod once it holds a quarter of a span (80 at p95),
// or after genStale whatever it holds. The short memory therefore forgets
// a step completely within two generations: at the default p95, 0.64 s at
// 1,000 requests per second, 1 s at 160 to 500 per second, and 1.6 s at 80
// (two quarter spans); below 80 per second it takes two quarter spans,
// 160 samples (3.2 s at 50 per second), since fewer would make its p95
// the guess of a handful of samples. Hard generations rather than decay
// are what make this fast: a decayed memory keeps a fraction of the old
// samples, and a p95 needs them below 5%, which takes 4.3 half-lives, and
// a half-life short enough for 2 s would weigh 60 samples at 100 per
// second.
//
// The long memory halves every longSpans spans of samples or every
// longPeriod, whichever comes first, so an idle host's samples fade and
// once the long memory weighs less than MinSamples the host borrows again;
// and it halves once more each time a whole generation ends disagreeing
// with it, so that after a step it stops being stale within a few
// generations rather than a few minutes. While the last generation to end
// disagreed, the short memory's quantile is used.
const (
	decayTail    = 16
	minDecaySpan = 64
	maxDecaySpan = 1 << 14
	longSpans    = 8
	longPeriod   = 40 * time.Second
	genPeriod    = 500 * time.Millisecond
	genStale     = 10 * time.Second
	defaultSpan  = 320 // decaySpan(DefaultQuantile), until a quantile is asked for

	// shiftFactor is how far the recent share above the long memory's
	// quantile must stray from 1 − q for the short memory to take over.
	// At p95 and a generation's quarter span of samples, noise alone
	// crosses it now and then, and the short memory's quantile is then
	// about one bucket off the long one's; at a span (from 320 samples a
	// second) 10% and 2.5% are 3.6 and 2.2 standard deviations away, and
	// it rarely does.
	shiftFactor = 2

	// recomputeEvery is how many new samples make the cached quantile
	// stale. Scanning the histograms costs far more than a request's other
	// work; amortised over 16 samples it does not, and 16 is a small
	// fraction of a span, so the cache never lags a change much.
	recomputeEvery = 16
)

// calm reports whether the host's own delay hedges are within
// rateFactor × (1 − q) at now, with room for one more (see hedgeRate.calm):
// its requests are not overrunning their delay in a storm.
func (e *estimator) calm(q float64, now time.Time) bool {
	return e.rate.calm(rateIndex(now.Sub(e.born)), rateFactor*(1-q))
}

// countHedge counts a delay hedge at now, of a request started at start,
// that the host's hedge rate did not admit but that was sent elsewhere
// (see race.deferLocked): the host's count stays the share of its
// requests hedged.
func (e *estimator) countHedge(start, now time.Time) {
	e.rate.count(rateIndex(start.Sub(e.born)), rateIndex(now.Sub(e.born)))
}

// decaySpan returns a generation's span of samples for an estimator read
// at quantile q.
func decaySpan(q float64) uint32 {
	return uint32(min(max(math.Round(decayTail/(1-q)), minDecaySpan), maxDecaySpan))
}

// estimator is a streaming latency quantile estimator over a decaying
// histogram and two generations of samples (see decayTail): bounded memory
// (about 4.2 KB), lock-free recording (atomic adds, no allocation), and a
// cached quantile. It also keeps the host's hedge rate (see rateFactor).
// It is safe for concurrent use.
//
// Time enters only as offsets from the estimator's birth, so it is
// monotonic when the instants passed in carry a monotonic reading (as
// time.Now's do). Counts are approximate while a halving runs; a hedge
// delay needs a fair estimate, not an exact one.
type estimator struct {
	long histogram
	gens [2]histogram // the short memory: gens[cur&1] collects samples, the other is the generation before
	rate hedgeRate

	born     time.Time
	span     atomic.Uint32 // decaySpan of the quantile read; 0 until one is
	q        atomic.Uint64 // math.Float64bits of the quantile read; 0 until one is
	seq      atomic.Uint64 // samples ever recorded
	decays   atomic.Uint64 // halvings and generations so far, to tell when the cache is stale
	cur      atomic.Uint32 // which of gens collects samples
	genStart atomic.Int64  // when gens[cur&1] began, as an offset from born, ns

	// fleet is the estimator of every host of the stage, which this one
	// borrows from while its own weight is short; nil for the fleet's own.
	fleet *estimator

	mu sync.Mutex // serializes halving, generations and recomputation; never waited for (TryLock)
	// Written under mu, read without it.
	cached       atomic.Int64 // last quantile in ns; < 0 if too little weight: the negated warm-up guess, or -1
	cachedSeq    atomic.Uint64
	cachedDecays atomic.Uint64
	cachedQ      atomic.Uint64 // math.Float64bits of the quantile cached
}

func newEstimator(now time.Time, fleet *estimator) *estimator {
	e := &estimator{born: now, fleet: fleet}
	e.gens[1].frozen.Store(true) // gens[0] collects first
	e.cached.Store(-1)
	e.cachedDecays.Store(math.MaxUint64) // nothing cached yet
	return e
}

// reset empties e for another host, at now: its samples, generations and
// hedge rate go, its birth, fleet and quantile read stay. Requests of the
// previous host still in flight may use it meanwhile (see hosts).
func (e *estimator) reset(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	off, seq := e.offset(now), e.seq.Load()
	e.long.halve(64, seq, off)
	cur := e.cur.Load()
	e.gens[cur&1].halve(64, seq, off)
	e.gens[(cur+1)&1].halve(64, seq, off)
	e.gens[(cur+1)&1].freeze(seq)
	e.genStart.Store(off)
	for i := range e.rate.buckets {
		e.rate.buckets[i].Store(0)
	}
	e.decays.Add(1)
	e.cached.Store(-1)
	e.cachedDecays.Store(math.MaxUint64)
}

// offset returns now as an offset from the estimator's birth.
func (e *estimator) offset(now time.Time) int64 { return int64(now.Sub(e.born)) }

// record adds one latency observed at now, and to the fleet's estimator.
func (e *estimator) record(d time.Duration, now time.Time) {
	b := bucketOf(d)
	e.long.add(b)
	e.gens[e.cur.Load()&1].add(b)
	if seq := e.seq.Add(1); e.due(now, seq) {
		e.maintain(now)
	}
	if e.fleet != nil {
		e.fleet.record(d, now)
	}
}

// start counts a request to the host started at now, for the hedge rate.
func (e *estimator) start(now time.Time) {
	e.rate.started(rateIndex(now.Sub(e.born)))
}

// admitHedge reports whether a delay hedge at now, of a request started at
// start, keeps the host's hedge rate within rateFactor × (1 − q) (see
// rateFactor), and counts it if so.
func (e *estimator) admitHedge(q float64, start, now time.Time) bool {
	return e.rate.admit(rateIndex(start.Sub(e.born)), rateIndex(now.Sub(e.born)), rateFactor*(1-q))
}

// decaySpan returns the span of a generation: sized by the quantile read,
// or the default quantile's before the first read.
func (e *estimator) decaySpan() uint64 {
	if n := e.span.Load(); n != 0 {
		return uint64(n)
	}
	return defaultSpan
}

// quantileRead returns the quantile the estimator is read at, or the
// default before the first read.
func (e *estimator) quantileRead() float64 {
	if q := e.q.Load(); q != 0 {
		return math.Float64frombits(q)
	}
	return DefaultQuantile
}

// due reports whether the current generation should end or the long
// memory halve (see decayTail), given the sample count seq. A clock that
// steps back makes neither due. It runs on every record, so it reads the
// clock offset once.
func (e *estimator) due(now time.Time, seq uint64) bool {
	off := e.offset(now)
	return e.genDue(off, seq) || e.longDue(off, seq) > 0
}

// genDue reports whether the current generation should end at offset off,
// given the sample count seq.
func (e *estimator) genDue(off int64, seq uint64) bool {
	span := e.decaySpan()
	n := e.gens[e.cur.Load()&1].since(seq)
	age := time.Duration(off - e.genStart.Load())
	return n >= span || (age >= genPeriod && (n >= span/4 || age >= genStale))
}

// longDue returns by how many halvings the long memory is due at offset
// off: one per longPeriod passed since its last, or one if longSpans spans
// of samples arrived since (seq is the sample count).
func (e *estimator) longDue(off int64, seq uint64) int64 {
	shift := max(off-e.long.halvedAt.Load(), 0) / int64(longPeriod)
	if shift == 0 && e.long.since(seq) >= e.decaySpan()*longSpans {
		shift = 1
	}
	return shift
}

// maintain ends the current generation and halves the long memory as
// they are due, unless another goroutine holds mu (a later call will).
func (e *estimator) maintain(now time.Time) {
	if !e.mu.TryLock() {
		return
	}
	defer e.mu.Unlock()
	off, seq := e.offset(now), e.seq.Load()
	changed := false
	shift := e.longDue(off, seq)
	if e.genDue(off, seq) {
		cur := e.cur.Load()
		ended, next := &e.gens[cur&1], &e.gens[(cur+1)&1]
		if time.Duration(off-e.genStart.Load()) >= 2*genStale {
			// No sample arrived for at least genStale (one would have
			// ended the generation): both generations are stale.
			ended.halve(64, seq, off)
		}
		ended.freeze(seq)
		shift += e.judge(view{h: [2]*histogram{ended}, seq: seq})
		next.halve(64, seq, off) // empty it before it collects again
		e.genStart.Store(off)
		e.cur.Store(cur + 1)
		changed = true
	}
	if shift > 0 {
		e.long.halve(shift, seq, off)
		changed = true
	}
	if changed {
		e.decays.Add(1)
	}
}

// judge compares the generation that ended, v, with the long memory, and
// returns by how many halvings the long memory is stale: none if they
// agree or v weighs less than a quarter span; 64 (empty it) if v's median
// lies outside the long memory's interquartile range, since the body of
// the distribution has moved and nothing the long memory holds describes
// the upstream any more; one more if the shares of v above the long
// memory's quantile stray from 1 − q by more than shiftFactor (the tail
// has moved: the long memory follows by forgetting faster). A median
// outside the quartiles is beyond 4.5 standard deviations of sampling
// noise at a quarter span, so noise alone does not empty the long memory.
func (e *estimator) judge(v view) int64 {
	q := e.quantileRead()
	long := e.longView(v.seq)
	lo, ok := long.quantileBucket(0.25, MinSamples)
	if !ok {
		return 0
	}
	hi, _ := long.quantileBucket(0.75, MinSamples)
	if mid, ok := v.quantileBucket(0.5, e.decaySpan()/4); ok && (mid < lo || mid > hi) {
		return 64
	}
	if e.disagrees(v, q) {
		return 1
	}
	return 0
}

// disagrees reports whether the samples of v, if they weigh at least a
// quarter span, put a share above the long memory's q-quantile that
// strays from 1 − q by more than shiftFactor either way.
func (e *estimator) disagrees(v view, q float64) bool {
	above, atOrAbove, ok := e.shares(v, q)
	return ok && (above > shiftFactor*(1-q) || atOrAbove < (1-q)/shiftFactor)
}

// shares returns the shares of v's samples above the long memory's
// q-quantile and at or above it, and false if the long memory has no
// quantile or v weighs less than a quarter span.
func (e *estimator) shares(v view, q float64) (above, atOrAbove float64, ok bool) {
	long, ok := e.longView(v.seq).quantileBucket(q, MinSamples)
	if !ok {
		return 0, 0, false
	}
	return v.tail(long, e.decaySpan()/4)
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
		e.q.Store(math.Float64bits(q))
		e.span.Store(decaySpan(q))
		if e.fleet != nil && e.fleet.span.Load() == 0 {
			e.fleet.q.Store(math.Float64bits(q))
			e.fleet.span.Store(decaySpan(q))
		}
	}
	if e.due(now, e.seq.Load()) {
		e.maintain(now) // a quiet host's samples age without new ones
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
// the recent samples disagree with it (see decayTail). If the samples
// weigh less than MinSamples it returns the negated warm-up guess (see
// quantile), or -1 without samples.
func (e *estimator) compute(q float64) time.Duration {
	seq := e.seq.Load()
	quarter := e.decaySpan() / 4
	recent := view{h: [2]*histogram{&e.gens[0], &e.gens[1]}, seq: seq}
	if e.long.total(seq) < quarter<<weightShift {
		// The long memory was just emptied (see judge): the recent
		// samples are the best there is. During the warm-up the two
		// hold the same samples.
		if short, ok := recent.quantileBucket(q, quarter); ok {
			return upperBound(short)
		}
	}
	long, ok := e.longView(seq).quantileBucket(q, MinSamples)
	if !ok {
		if g, ok := e.long.guess(seq); ok {
			return -g
		}
		return -1
	}
	if e.disagrees(recent, q) {
		if short, ok := recent.quantileBucket(q, quarter); ok {
			return upperBound(short)
		}
	}
	return upperBound(long)
}

// longView returns the long memory as of the sample count seq.
func (e *estimator) longView(seq uint64) view {
	return view{h: [2]*histogram{&e.long}, seq: seq}
}
