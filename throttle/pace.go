package throttle

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/internal/saturate"
)

// pacer is one host's token bucket: a rate.Limiter whose rate is the lowest
// of what was configured, what the host's headers say and what AIMD learned
// from its 429s. It is safe for concurrent use.
//
// # Learning from headers
//
// A quota policy (RateLimit-Policy q per w, or a limit header) sets the rate
// to q/w with a bucket of q, the server's own quota, so a client that has
// been idle may use what the server would grant. Every remaining count then
// caps the bucket's tokens: the client never believes it has more left than
// the server says, so it spends what is left at the policy's rate instead of
// in a burst, and a remaining count of zero closes the gate until the reset
// (see readSignal). Limit headers do not name their window: it is taken as
// the longest reset seen from the host, less its rounding (a second for a
// reset in whole seconds, which servers round up), at least a second (a
// fixed window's reset never exceeds its window, so the rate errs high and
// the remaining counts correct it). A host that sends a remaining count and a reset but no
// quota is paced at remaining/reset: what is left, spread over the time
// left.
//
// Once a host has sent quota fields, its headers alone set the pace; AIMD
// runs only for hosts that never did.
type pacer struct {
	// lim is nil while nothing limits the host, so that the common case
	// reads one pointer and takes no lock. It is replaced, never reset to
	// nil, when the host becomes paced: x/time/rate's token arithmetic is
	// undefined when a limiter leaves rate.Inf at the instant it last
	// advanced.
	lim atomic.Pointer[rate.Limiter]
	// metering is true while AIMD may still need the send rate for its
	// first cut, so that other hosts skip the meter's lock.
	metering atomic.Bool
	// restoring is true while the end of a pause is to set the bucket
	// (see pausedUntil), so that take skips the lock otherwise.
	restoring atomic.Bool

	mu              sync.Mutex // guards the fields below
	configured      rate.Limit // 0: none
	configuredBurst int
	learned         rate.Limit // from headers; 0: none
	learnedBurst    int
	reserve         int64         // quota units the client leaves unspent; see learnHeaders
	informed        bool          // a response carried quota fields
	maxReset        time.Duration // longest reset seen: a limit header's window
	aimd            aimd
	sent            window // admissions over the last second, for AIMD's first cut
	admitted        window // successes (a) and throttled answers (b) over the last second, for AIMD's cuts
	maxRemaining    int64  // the highest remaining count the host has sent: its capacity less one
	restoreAt       time.Time
	restoreFull     bool // at restoreAt the host's quota is back: see pausedUntil
}

func newPacer(now time.Time, r rate.Limit, burst int) *pacer {
	p := &pacer{configured: r, configuredBurst: max(burst, 1), sent: newWindow(time.Second), admitted: newWindow(time.Second)}
	p.metering.Store(true)
	p.mu.Lock()
	p.apply(now)
	p.mu.Unlock()
	return p
}

// take asks for a token at now. If one is free it returns ok and no wait.
// Otherwise, if the wait for one is at most maxWait, it returns ok, the wait
// and the reservation, which the caller must cancel if it does not send. If
// the wait is longer, it returns the wait and false, holding nothing.
// maxWait below zero means the request may not wait at all.
func (p *pacer) take(now time.Time, maxWait time.Duration) (wait time.Duration, res *rate.Reservation, ok bool) {
	if p.restoring.Load() {
		p.restore(now)
	}
	lim := p.lim.Load()
	if lim == nil {
		return 0, nil, true
	}
	return takeToken(lim, now, maxWait)
}

// takeToken takes a token from lim at now, as pacer.take describes: a free
// one costs no reservation; one within maxWait is reserved, for the caller
// to cancel if it does not send; one further off is not taken.
func takeToken(lim *rate.Limiter, now time.Time, maxWait time.Duration) (wait time.Duration, res *rate.Reservation, ok bool) {
	if lim.AllowN(now, 1) {
		return 0, nil, true
	}
	res = lim.ReserveN(now, 1)
	wait = res.DelayFrom(now)
	if !res.OK() || wait > maxWait {
		res.CancelAt(now)
		return wait, nil, false
	}
	return wait, res, true
}

// sentAt counts an admission at now for AIMD's send-rate meter.
func (p *pacer) sentAt(now time.Time) {
	if !p.metering.Load() {
		return
	}
	p.mu.Lock()
	p.sent.add(now, 1, 0)
	p.mu.Unlock()
}

// learn updates the pace from one response received at now: its signal,
// whether it was throttled or a success, when its request took its turn in
// the pace, whether that request waited for the pacing, and whether it was
// alone in flight to its host.
func (p *pacer) learn(now time.Time, sig signal, throttled, success bool, pacedAt time.Time, limited, alone bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case sig.informed():
		p.learnHeaders(now, sig)
	case p.informed:
		// Headers set this host's pace; a response without them (an
		// error page from a proxy) does not hand it to AIMD.
	case throttled:
		p.admitted.add(now, 0, 1)
		if p.sparse(now, sig, alone) {
			break
		}
		if p.aimd.throttled(now, pacedAt, p.sent.rate(now, aimdSpan), p.admittedRate(now), sig.pause == 0) {
			p.metering.Store(false)
			p.apply(now)
		}
	case success:
		p.admitted.add(now, 1, 0)
		if p.aimd.succeeded(now, pacedAt, limited) {
			p.apply(now)
		}
	}
}

// loneDense is how many throttled answers, and more than successes, the
// last second must hold before a bare 429 to a request alone in flight
// starts AIMD's pacing (see sparse).
const loneDense = 5

// sparse reports whether a throttled answer at now is no evidence of a
// quota, for AIMD: a bare 429 (no pause asked, no quota fields) to a
// request that was alone in flight to its host, while AIMD does not pace
// the host yet, unless the host refused most of the last second's
// requests, at least loneDense of them.
//
// A client that sends one request at a time cannot burst; a quota that
// refuses it refuses most of what it sends, once it sends faster than the
// quota. A flaky upstream that answers a fifth of requests with a bare
// 429 at random, whatever the rate, refuses a steady share instead: AIMD
// cut the rate at each such 429 (it cannot tell them from a quota's), the
// rate spiralled down to where growth balances the cuts (about a tenth of
// a request per second for every 2% of refusals), and a lone caller
// waited p90 0.55 s in the throttle, 25 times slower than without it. The
// retry stage, not the pacing, is what answers a random failure. Once a
// dense episode has started the pacing, every 429 counts as before, so a
// lone caller faster than its host's quota is paced at that quota.
// p.mu is held.
func (p *pacer) sparse(now time.Time, sig signal, alone bool) bool {
	if !alone || sig.pause > 0 || p.aimd.rate > 0 {
		return false
	}
	t := p.admitted.totals(now)
	return t.b < loneDense || t.b <= t.a
}

// admittedRate returns the host's successes over the last second. p.mu
// is held.
func (p *pacer) admittedRate(now time.Time) float64 {
	return float64(p.admitted.totals(now).a)
}

// learnHeaders applies quota fields. p.mu is held.
func (p *pacer) learnHeaders(now time.Time, sig signal) {
	p.informed = true
	p.aimd = aimd{}
	p.metering.Store(false)
	if sig.hasReset {
		// The window is at least the longest reset, less its rounding: a
		// 1 s window announced in whole epoch seconds shows resets of up to
		// 1.99 s, and taking them at face value paced the quota lab's
		// GitHub dialect at 93/s against a quota of 100/s in some runs.
		p.maxReset = max(p.maxReset, sig.reset-sig.resetSlack)
	}
	switch {
	case sig.quota > 0:
		w := sig.window
		if w == 0 {
			w = max(p.maxReset, time.Second)
		}
		p.learned = rate.Limit(sig.quota / w.Seconds())
		p.reserve = int64(math.Ceil(sig.quota * reserveFraction))
		p.learnedBurst = int(min(max(sig.quota-float64(p.reserve), 1), math.MaxInt32))
	case sig.hasRemaining && sig.remaining > 0 && sig.hasReset && sig.reset > 0:
		p.learned = rate.Limit(float64(sig.remaining) / sig.reset.Seconds())
		p.learnedBurst = 1
	}
	p.apply(now)
	if sig.hasRemaining {
		p.maxRemaining = max(p.maxRemaining, sig.remaining)
		p.capTokens(now, max(sig.remaining-p.reserve, 0))
	}
}

// pausedUntil tells the pacing that the host's gate is closed until
// until; quotaBack says the host announced that its whole quota is back by
// then (nothing remained, and its reset comes no later than until).
//
// While the gate is closed, the requests that had reserved turns give them
// back (see Throttle.sleepPace), but a token bucket restores tokens only in
// the order they were reserved, so it may be left in debt, and the first
// request after the pause would wait for turns nobody used. And a fixed
// window's reset restores the whole quota at once, which a bucket refilling
// at the quota's rate would take a window to learn: with GitHub's 1 s
// windows the first request after a reset left ~0.95 s late, and windows
// alternated 20 requests and 1. So when the pause ends, the bucket holds
// what the host then allows: after its reset, its capacity (the highest
// remaining count it has sent, plus one, less the reserve, at most the
// burst: a host counting continuously, whose capacity is its burst, gets
// no more than it would); after any other pause, at least nothing, its
// debt forgiven.
func (p *pacer) pausedUntil(now, until time.Time, quotaBack bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aimd.paused(now, until)
	if until.Before(p.restoreAt) {
		return
	}
	p.restoreAt, p.restoreFull = until, quotaBack
	p.restoring.Store(true)
}

// restore sets the bucket as pausedUntil describes, once the pause is over
// at now.
func (p *pacer) restore(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.restoreAt.IsZero() || now.Before(p.restoreAt) {
		return
	}
	at := p.restoreAt
	p.restoreAt = time.Time{}
	p.restoring.Store(false)
	lim := p.lim.Load()
	if lim == nil || lim.Limit() == rate.Inf {
		return
	}
	tokens := lim.TokensAt(at)
	level := max(tokens, 0)
	if p.restoreFull {
		level = float64(min(max(p.maxRemaining+1-p.reserve, 0), int64(lim.Burst())))
	}
	if level == tokens {
		return
	}
	// x/time/rate cannot add tokens: a new bucket at the same pace starts
	// full and is drawn down to level. Turns reserved from the old one
	// were given back when the gate closed.
	fresh := rate.NewLimiter(lim.Limit(), lim.Burst())
	if n := lim.Burst() - int(level); n > 0 {
		fresh.ReserveN(at, n)
	}
	p.lim.Store(fresh)
}

// reserveFraction is the share of a quota the client does not spend in a
// burst: the bucket never holds more tokens than the server's remaining
// count minus this share. A server that counts continuously (GCRA, token
// buckets: most gateways) then never sees the client drive its count to
// zero, which would close the gate for a whole reset period, often a
// rounded-up second; below the reserve the client sends only at the
// policy's rate. A fixed-window server (GitHub's hour) still gets all of
// its quota, the last tenth paced rather than burst.
const reserveFraction = 0.1

// capTokens takes tokens out of the bucket until at most limit are left.
// p.mu is held.
func (p *pacer) capTokens(now time.Time, limit int64) {
	lim := p.lim.Load()
	if lim == nil {
		return
	}
	if excess := math.Floor(lim.TokensAt(now) - float64(limit)); excess >= 1 {
		lim.ReserveN(now, int(min(excess, float64(lim.Burst()))))
	}
}

// apply sets the limiter to the lowest of the configured, learned and AIMD
// rates, with that source's burst (AIMD's is 1, or the configured burst if
// lower: after a 429, requests are spread evenly). p.mu is held.
func (p *pacer) apply(now time.Time) {
	limit, burst := rate.Inf, 0
	consider := func(l rate.Limit, b int) {
		if l > 0 && l < limit {
			limit, burst = l, max(b, 1)
		}
	}
	consider(p.configured, p.configuredBurst)
	consider(p.learned, p.learnedBurst)
	consider(rate.Limit(p.aimd.rate), 1)
	lim := p.lim.Load()
	switch {
	case limit == rate.Inf:
		// Nothing limits the host: keep any limiter (it is never made
		// nil again) but let it pass everything.
		if lim != nil && lim.Limit() != rate.Inf {
			lim.SetLimitAt(now, rate.Inf)
		}
	case lim == nil || lim.Limit() == rate.Inf:
		p.lim.Store(rate.NewLimiter(limit, burst))
	default:
		retune(lim, now, limit, burst)
	}
}

// retune sets lim's rate and burst at now, touching only what changed.
func retune(lim *rate.Limiter, now time.Time, r rate.Limit, burst int) {
	if lim.Limit() != r {
		lim.SetLimitAt(now, r)
	}
	if lim.Burst() != burst {
		lim.SetBurstAt(now, burst)
	}
}

// paceQueueTokens is how many tokens' time a host's pacing queue holds at
// least, whatever MaxPaceWait says: at 1 request per 10 s, four requests
// may still queue.
const paceQueueTokens = 4

// paceWait returns how long w's request may wait for a pace token at now:
// until its own limit, but no deeper into the host's queue than
// MaxPaceWait (or paceQueueTokens tokens' time, if longer), less what it
// has already waited for pace tokens: a request that left the queue for a
// pause and came back does not start a new MaxPaceWait.
func (t *Throttle) paceWait(w *waiter, now time.Time) time.Duration {
	d := w.limit.Sub(now)
	q := t.s.maxPaceWait
	if r, _ := w.h.pace.limits(); r > 0 && r != rate.Inf {
		q = max(q, saturate.Seconds(paceQueueTokens/float64(r)))
	}
	return min(d, q-w.waits[Pace])
}

// limits returns the current rate and burst, for Snapshot.
func (p *pacer) limits() (rate.Limit, int) {
	lim := p.lim.Load()
	if lim == nil || lim.Limit() == rate.Inf {
		return rate.Inf, 0
	}
	return lim.Limit(), lim.Burst()
}
