package budget

import (
	"fmt"
	"sync"
	"time"
)

// slack absorbs float64 rounding in Ratio × firsts: 0.29 × 100 evaluates to
// 28.999999999999996, which must still allow a 29th extra. It is relative
// (for large counts) plus absolute (for small ones), far below one attempt.
const (
	slackRel = 1e-12
	slackAbs = 1e-9
)

// Budget allows an extra attempt — a retry or a hedge — only while extra
// attempts stay within a fraction of first attempts over a sliding window,
// plus a per-second floor.
//
// # Algorithm
//
// [Budget.Deposit] counts a first attempt; [Budget.Withdraw] asks for an extra
// one. Both are counted in a ring of 10 buckets spanning [Config.Window], and
// Withdraw succeeds if and only if
//
//	extras + 1 ≤ Ratio × firsts + MinPerSecond × Window.Seconds()
//
// where firsts and extras are the counts still in the window. The ratio term
// bounds amplification under load: with the default 0.2, an upstream that
// fails every request receives at most 1.2× the offered load plus the floor,
// instead of MaxAttempts× from unbudgeted retries. The floor term lets a
// client with little traffic still retry: its first failures are not denied
// just because it has sent few requests. Denied withdrawals are not counted
// against the budget, so a denied caller may ask again later.
//
// Buckets rotate lazily, from the instant passed to each call: there is no
// background goroutine and nothing to Close. An attempt stops counting between
// 0.9 × Window and Window after it was recorded; a pause of a whole Window
// empties the budget. A clock step backwards keeps the counts and restarts the
// current bucket (see window.advance).
//
// # Defaults
//
// The zero [Config], and the zero Budget, give Ratio 0.2, a floor of 10 per
// second and a 10 s window: Finagle's RetryBudget defaults, which Linkerd
// adopted ("20% of requests plus 10 retries per second over 10 seconds").
//
// # Sharing
//
// Retries and hedges are the same cost to an upstream, so they should draw on
// one budget: pass the same *Budget to the retry stage and the hedge stage,
// and the pair together stays within the bound. Deposit exactly once per
// logical request, in whichever stage sees it first (the outermost one):
// depositing in both stages would double the allowance.
//
// # Concurrency
//
// A Budget is safe for concurrent use by multiple goroutines. Each call holds
// an internal mutex for a few arithmetic operations, never while calling out,
// and allocates nothing. A Budget must not be copied after first use.
type Budget struct {
	mu sync.Mutex
	// Guarded by mu.
	ready bool     // cfg and win are set; false only in a zero Budget before first use
	cfg   settings // normalized Config; never changes once ready
	win   window   // firsts and extras in the sliding window
	stats Stats    // cumulative counters since New
}

// Stats are cumulative counters since a [Budget] was created; they never
// decrease and do not slide with the window.
type Stats struct {
	Deposits    uint64 // first attempts recorded by Deposit
	Withdrawals uint64 // extra attempts granted by Withdraw
	Denied      uint64 // extra attempts refused by Withdraw
}

// New returns a Budget configured by cfg; zero fields take the defaults
// documented on [Config]. New panics if a field is out of range; the panic
// message names the field.
func New(cfg Config) *Budget {
	b := &Budget{}
	b.cfg = cfg.normalize()
	b.win.init(b.cfg.window)
	b.ready = true
	return b
}

// Deposit records one first attempt: call it once per logical request, never
// for a retry or a hedge. Each deposit raises the allowance by Ratio for the
// length of the window.
func (b *Budget) Deposit() {
	b.depositAt(time.Now())
}

// Withdraw asks for one extra attempt (a retry or a hedge). It reports true if
// the attempt fits the budget, and counts it as spent; it reports false if
// not, and the caller must not send the attempt. Withdraw never blocks.
func (b *Budget) Withdraw() bool {
	return b.withdrawAt(time.Now())
}

// Stats returns the cumulative counters since the Budget was created.
func (b *Budget) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// String describes the configuration and cumulative counters, for logs.
func (b *Budget) String() string {
	b.mu.Lock()
	b.lazyInit()
	cfg, st := b.cfg, b.stats
	b.mu.Unlock()
	return fmt.Sprintf("budget{ratio=%g floor=%g/%v deposits=%d withdrawals=%d denied=%d}",
		cfg.ratio, cfg.floor, cfg.window, st.Deposits, st.Withdrawals, st.Denied)
}

// depositAt is Deposit at the instant now.
func (b *Budget) depositAt(now time.Time) {
	b.mu.Lock()
	b.lazyInit()
	b.win.advance(now)
	b.win.addFirst()
	b.stats.Deposits++
	b.mu.Unlock()
}

// withdrawAt is Withdraw at the instant now.
func (b *Budget) withdrawAt(now time.Time) bool {
	b.mu.Lock()
	b.lazyInit()
	b.win.advance(now)
	ok := b.cfg.allows(b.win.sum)
	if ok {
		b.win.addExtra()
		b.stats.Withdrawals++
	} else {
		b.stats.Denied++
	}
	b.mu.Unlock()
	return ok
}

// lazyInit gives a zero Budget the default Config. b.mu must be held.
func (b *Budget) lazyInit() {
	if !b.ready {
		b.cfg = Config{}.normalize()
		b.win.init(b.cfg.window)
		b.ready = true
	}
}

// allows reports whether one more extra attempt fits, given the counts in the
// window.
func (s settings) allows(t tally) bool {
	allowance := s.ratio*float64(t.firsts) + s.floor
	return float64(t.extras+1) <= allowance*(1+slackRel)+slackAbs
}
