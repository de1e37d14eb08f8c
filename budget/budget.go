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
// attempts stay within a fraction of first attempts in every recent span of
// time, plus a small floor, and only while the upstream is not failing most
// of what it is sent.
//
// # Algorithm
//
// [Budget.Deposit] counts a first attempt; [Budget.Withdraw] asks for an
// extra one. Withdraw succeeds if and only if two rules allow it.
//
// The rate rule: for every span of time ending now and no longer than
// [Config.Window],
//
//	extras in the span + 1 ≤ Ratio × firsts in the span + MinPerSecond × Window
//
// so the extras granted in any span of Window are bounded by that span's own
// first attempts plus the floor (counted in buckets of Window / 20, so a
// span is credited with at most a twentieth of a Window of firsts from just
// before it). Under load the ratio bounds amplification: with the default
// 0.2, an upstream that fails every request receives at most 1.2× the
// offered load plus the floor, instead of MaxAttempts×, and it receives it
// spread as evenly as the first attempts were: allowance earned by first
// attempts a second ago cannot be spent in a burst now. The floor lets a
// client with little traffic still retry. Denied withdrawals are not
// counted against the budget, so a denied caller may ask again later.
//
// The failure gate, after gRPC's retry throttling (gRFC A6): a token count
// starts at [Config.MaxTokens]; [Budget.RecordFailure] takes one token away
// (never below zero) and [Budget.RecordSuccess] gives one back (never above
// MaxTokens); while the count is at or below MaxTokens / 2, every Withdraw
// is denied. A client whose attempts all fail therefore stops sending extras
// after MaxTokens / 2 failures, however little traffic it has (the floor
// alone would let a client of 10 requests per second double its load on a
// dead upstream), and resumes as soon as successes catch up. gRPC gives a
// success back only a tenth of a token, which closes the gate once a
// tenth of attempts fail; a flaky HTTP upstream (the quickstart's fails
// 15%) is exactly what retries are for, so the gate here closes only when
// failures outnumber successes: the threshold at which the SRE book's
// client-side throttling (K = 2) starts rejecting.
//
// Buckets rotate lazily, from the instant passed to each call: there is no
// background goroutine and nothing to Close. A clock step backwards keeps
// the counts and restarts the current bucket (see window.advance).
//
// # Defaults
//
// The zero [Config], and the zero Budget, give Ratio 0.2 and a floor of 10
// per second, Finagle's RetryBudget defaults (which Linkerd adopted), over a
// 1 s window rather than Finagle's 10 s, so that the bound holds second by
// second; and gRPC's 10 tokens.
//
// # Sharing
//
// Retries and hedges are the same cost to an upstream, so they should draw
// on one budget: pass the same *Budget to the retry stage and the hedge
// stage, and the pair together stays within the bound. Deposit exactly once
// per logical request, in whichever stage sees it first (the outermost one):
// depositing in both stages would double the allowance. The stage that
// deposits also records its attempts' outcomes, so that each is counted
// once.
//
// # Concurrency
//
// A Budget is safe for concurrent use by multiple goroutines. Each call
// holds an internal mutex for a few arithmetic operations (Withdraw scans 21
// buckets), never while calling out, and allocates nothing. A Budget must
// not be copied after first use.
type Budget struct {
	mu sync.Mutex
	// Guarded by mu.
	ready  bool     // cfg, win and tokens are set; false only in a zero Budget before first use
	cfg    settings // normalized Config; never changes once ready
	win    window   // firsts and extras in the recent past
	tokens float64  // the failure gate's count, in [0, cfg.maxTokens]
	stats  Stats    // cumulative counters since New
}

// Stats are cumulative counters since a [Budget] was created; they never
// decrease and do not slide with the window.
type Stats struct {
	Deposits    uint64 // first attempts recorded by Deposit
	Withdrawals uint64 // extra attempts granted by Withdraw
	Denied      uint64 // extra attempts refused by Withdraw, for either rule
	Gated       uint64 // of Denied, those refused by the failure gate
	Successes   uint64 // outcomes recorded by RecordSuccess
	Failures    uint64 // outcomes recorded by RecordFailure
}

// New returns a Budget configured by cfg; zero fields take the defaults
// documented on [Config]. New panics if a field is out of range; the panic
// message names the field.
func New(cfg Config) *Budget {
	b := &Budget{}
	b.init(cfg.normalize())
	return b
}

// Deposit records one first attempt: call it once per logical request, never
// for a retry or a hedge. Each deposit raises the allowance of every span
// that contains it by Ratio.
func (b *Budget) Deposit() {
	b.depositAt(time.Now())
}

// Withdraw asks for one extra attempt (a retry or a hedge). It reports true if
// the attempt fits the budget, and counts it as spent; it reports false if
// not, and the caller must not send the attempt. Withdraw never blocks.
func (b *Budget) Withdraw() bool {
	return b.withdrawAt(time.Now())
}

// RecordSuccess records that an attempt — first or extra — got an answer
// that ends the request well (a success, or a final answer such as a 404):
// the failure gate gains a token.
func (b *Budget) RecordSuccess() {
	b.mu.Lock()
	b.lazyInit()
	b.tokens = min(b.tokens+1, b.cfg.maxTokens)
	b.stats.Successes++
	b.mu.Unlock()
}

// RecordFailure records that an attempt failed in a way a retry or a hedge
// would be sent for (a 5xx, a 429, a connection reset, a timeout): the
// failure gate loses a token. Outcomes that say nothing about the
// upstream's health — the caller gave up, an inner stage refused to send,
// a fatal error a copy would repeat — are recorded as neither.
func (b *Budget) RecordFailure() {
	b.mu.Lock()
	b.lazyInit()
	b.tokens = max(b.tokens-1, 0)
	b.stats.Failures++
	b.mu.Unlock()
}

// Stats returns the cumulative counters since the Budget was created.
func (b *Budget) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// String describes the configuration, the failure gate and the cumulative
// counters, for logs.
func (b *Budget) String() string {
	b.mu.Lock()
	b.lazyInit()
	cfg, tokens, st := b.cfg, b.tokens, b.stats
	b.mu.Unlock()
	return fmt.Sprintf("budget{ratio=%g floor=%g/%v tokens=%g/%g deposits=%d withdrawals=%d denied=%d gated=%d}",
		cfg.ratio, cfg.floor, cfg.window, tokens, cfg.maxTokens, st.Deposits, st.Withdrawals, st.Denied, st.Gated)
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
	gated := b.tokens <= b.cfg.maxTokens/2
	ok := !gated && b.win.allows(b.cfg.ratio, b.cfg.floor)
	switch {
	case ok:
		b.win.addExtra()
		b.stats.Withdrawals++
	case gated:
		b.stats.Gated++
		fallthrough
	default:
		b.stats.Denied++
	}
	b.mu.Unlock()
	return ok
}

// lazyInit gives a zero Budget the default Config. b.mu must be held.
func (b *Budget) lazyInit() {
	if !b.ready {
		b.init(Config{}.normalize())
	}
}

// init sets the configuration and starts empty, with a full gate.
func (b *Budget) init(s settings) {
	b.cfg = s
	b.win.init(s.window)
	b.tokens = s.maxTokens
	b.ready = true
}
