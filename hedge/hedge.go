package hedge

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// Hedger is a hedging stage: it sends a backup copy of a slow request and
// returns whichever copy answers first. [New] builds one from a [Config];
// [Hedger.Wrap] puts it over a transport, alone or in a pipeline.
//
// # When hedges fire
//
// The original attempt is sent at once. Hedge k (k = 1..MaxHedges) is sent
// when its delay after the start of the request has elapsed with no attempt
// won yet: k × Delay (fixed), Delays[k-1] (schedule, see [SLO]) or k × the
// host's recent latency quantile (adaptive; see [Config]). An attempt that
// fails with a transient response or a transport error fires the next
// hedge at once instead of waiting for its delay — unless the response
// carries a Retry-After asking for a pause. A throttled response (a 429,
// with or without Retry-After) or any failed response asking for a pause
// is pushback: the server is refusing load, so no further hedge is sent
// for that request, early or on its timer (copies would multiply the load
// it refuses). The same holds when an inner stage reports a throttled try
// or a pause it is waiting out (a retry stage honouring a 429's
// Retry-After, where this stage cannot see the 429), in every order of
// stages. Every hedge must first be granted by the budget; a
// denied hedge is not sent and ends hedging for that request.
//
// # Who wins
//
// The first attempt whose outcome is a success or a final client error (see
// [idempotency.Kind]) wins, and every other attempt is canceled at once. No
// failure ever beats an attempt still pending: a fast 503 waits for a slower
// 200, and an inner stage's rejection (an open breaker: [idempotency.Rejected])
// neither cancels nor beats anything, nor fires the next hedge early (and
// when nothing else is pending it is returned at once, rather than waiting
// for a timer to send a hedge the same stage would likely refuse) — except
// with Replicas, where the next hedge goes to another replica (see
// Replicas below). When no
// attempt can win any more, the
// most useful failure is returned: the latest response (with its body), else
// the latest transport error, else the latest rejection. Responses that are
// not returned are drained and closed in the background (at most 256 KiB,
// for at most 500 ms), including ones that arrive after the decision: no
// drain ever delays the answer.
//
// The winning attempt's context stays alive until the caller closes the
// response body, so reading it never fails with "context canceled"
// (hedgedhttp #1; failsafe-go #65).
//
// A hedge is built on its own goroutine, which calls the request's GetBody
// and then asks the budget. A hedge whose body cannot be produced again is
// not sent, not counted and not charged, and ends hedging for the request,
// as a denied one does.
//
// # Replicas
//
// With [Config.Replicas], a request whose URL targets a listed replica
// sends its original attempt there, as asked, and each hedge to a replica
// of the same service chosen by these rules, in order: one not known to
// refuse requests (see below) before one that is; then one the request has
// not tried; then the one it tried least recently. Replicas equal on all
// three take turns, so hedges spread evenly over them. [Replicas.Pick]
// replaces the rules with the user's. A hedge's URL is the request's with
// the replica's scheme and host; its Host header and TLS server name
// follow the rule [Replicas] documents.
//
// Each replica is its own host for all per-host state. Its adaptive delay
// is learnt from the originals sent to it, and a request's hedges fire at
// k × the delay of the replica its original went to. Inner stages keyed by
// the attempt's URL — a breaker, a throttle — keep one state per replica.
// When an inner stage refuses a hedge without sending it (an open breaker:
// an [idempotency.Rejection]), that hedge is a rejection as ever: it
// neither wins nor cancels anything. The stage then remembers the replica
// as refusing until the rejection's RetryAfter (or for a second, if it
// gives none), or until an attempt to it gets through, and sends later
// hedges elsewhere while there is a choice. And since the next hedge goes
// to a replica the refusing stage does not govern, a refused attempt —
// the original included — fires the next hedge at once when some replica
// the request has not tried is not known to refuse: a request whose
// replica's breaker is open goes to another replica instead of failing. A pushback (a Retry-After on a
// failed response, or a pause an inner stage reports) still stops hedging
// for the request, whichever replica sent it: replicas of one service
// usually share the quota that pushes back.
//
// # Panics
//
// A panic in the wrapped transport, the classifier, GetBody, a hook,
// Replicas.Pick, or the logger or observer recording a decision decides
// the race at once if no caller has its answer yet: the timer is stopped,
// every attempt is canceled, every response closed, OnComplete reports it
// (its Err holds the stack where the panic was recovered), and RoundTrip
// raises the panic again, with the same value, on the caller's goroutine.
// A hedge's goroutine recovers it and hands it over, so it never crashes
// the process; an inner stage reporting into the race (a retry stage's
// try) is never unwound by it. A panic with no caller left to receive it
// (an attempt that had already lost) is dropped with that attempt's
// output, counted in [Stats].DroppedPanics and recorded in the decision
// log as panic_dropped, with its stack.
//
// # Tracing
//
// A client trace in the caller's context ([net/http/httptrace.ClientTrace])
// sees the original attempt only, and only until it loses: hedges run
// without it, so its hooks never run concurrently for two attempts, and
// never for a loser after the decision.
//
// # Never hedged
//
// A request passes straight through, as if the stage were absent (no mark
// in its context, no budget deposit), when it asks for a protocol upgrade
// (an Upgrade header: WebSocket, h2c), when [Config.Skip] reports true, or
// when the classifier does not call it replayable: POST and PATCH without
// an Idempotency-Key, or a body that cannot be produced again. A body without
// GetBody, on a request that would otherwise be hedged, is buffered up to
// 1 MiB; a larger one is sent once, whole.
//
// # Adaptive delay
//
// In adaptive mode each host (req.URL.Host; at most 512 are tracked, and
// the one least recently used is forgotten first) has two memories of the
// original attempt's time to response headers: a long one, a decaying
// histogram that halves every 2,560 samples at p95 (eight times 16 ÷
// (1 − Quantile)) or every 40 s, and a short one, the samples of the
// current generation and the one before. A generation ends after 320
// samples at p95, or after 500 ms once it holds 80, or after 10 s. The
// delay is the long memory's quantile, unless the recent samples put more
// than twice 1 − Quantile above it or less than half at or above it: then
// the upstream has changed and the short memory's quantile is used. A
// generation whose median lies outside the long memory's quartiles empties
// the long memory (the body of the distribution moved: nothing in it is
// current), and one whose tail disagrees halves it once more. So a step in
// latency, up or down, is followed within two generations: 0.6 s at 1,000
// requests per second, 1 s from 160 to 500 per second, 1.6 s at 80; below
// 80 per second it takes 160 samples (3.2 s at 50 per second), since a p95
// from fewer would be the guess of a handful of samples.
//
// A step up is first seen as requests overrunning the delay, before any of
// them answers. So a hedge due on an estimated delay is sent only while the
// host's requests hedged on their delay stay within twice 1 − Quantile of
// its requests started, plus 1, in every span of at least half a second of
// the last second (counted by request start); otherwise it is put off to
// twice the time elapsed and asked for again (Stats.Deferred), so a request
// that is still slow once the estimate has caught up is hedged then. The
// warm-up delay, a guess and a delay cut down to MaxDelay are not put off:
// they are the user's choice, or the best there is. With the default p95
// the delay alone never hedges more than about 15% of a second's requests
// (10% plus the allowance and the buckets' rounding), whatever the budget.
// With Replicas, a hedge bound for another replica is not put off while
// every replica it may go to (untried, not known to refuse) is itself
// within that limit: one replica's stall is then what the hedge escapes,
// and the copy adds nothing to the stalled replica's load; the budget
// bounds the extra load. Replicas slowing down together all reach their
// limits, and the hedges are put off as for one host. Replicas.Pick's
// hedges are checked as for one host, since its choice comes later.
//
// What is learnt is one try's time to an answer that could win (a success
// or a final answer): a fast 503 would pull the delay down. When an inner
// stage sends several tries per attempt (a retry stage, in hedge(retry)
// order), it reports each to the race, and the tries are learnt instead of
// the attempt, whose duration would include backoff waits; a try that
// fails fires the next hedge at once, as a failed attempt does (a
// throttled try stops hedging instead). A try (or attempt) during which
// an inner stage reported a pause it waits out — a throttle's closed gate,
// a breaker's MaxWait for its probe — is not learnt: its time is the
// wait's, not the upstream's. An original canceled because a hedge won counts as long as its try in
// flight has run, if that is past the delay: a lower bound that still
// lands in the tail where it belongs, so hedging does not hide the
// slowness it cures. Hedges' own latencies are not counted: they are
// biased towards the fast (they count only when they win). Until a host's
// samples weigh [MinSamples], it borrows the quantile of all the stage's
// hosts together (or its own guess, if that is later); before any host has
// enough, its guess — from five samples on, twice the slowest, at most four
// times the median from ten on — or WarmupDelay if that is sooner, or
// before five samples.
//
// # Cost when idle
//
// The original attempt runs on the caller's goroutine; a goroutine is
// started only for each hedge actually sent. An idle hedge costs a context,
// a request clone and a small record (4 allocations), and a pooled timer.
// In exchange, the base transport must return promptly once a request's
// context is canceled, as net/http's does: a losing original is still
// running on the caller's goroutine, so RoundTrip returns only once it has.
//
// # Concurrency
//
// A Hedger is safe for concurrent use, and so are the transports it wraps;
// one Hedger may wrap several transports, which then share its statistics,
// budget and latency estimates.
type Hedger struct {
	cfg      settings
	marks    []attempt.Mark // attempt i+1's mark at index i
	replicas *replicaSet    // nil without Config.Replicas
	hosts    hosts          // adaptive estimators by host
	timers   timerPool
	stats    counters
}

// New returns a Hedger configured by cfg. It panics, with a message naming
// the field, if cfg is invalid (see [Config]).
func New(cfg Config) *Hedger {
	h := &Hedger{cfg: cfg.normalize(), replicas: cfg.replicas(time.Now())}
	h.marks = attempt.Marks(h.cfg.sched.hedges+1, attempt.Mark{Budget: h.cfg.budget, Classifier: h.cfg.classifier})
	return h
}

// Wrap returns a transport that hedges requests sent to next; a nil next
// means [http.DefaultTransport]. It implements [pipeline.Stage].
func (h *Hedger) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{h: h, next: next}
}

// Stats returns the counters accumulated since New, over every transport
// the Hedger wrapped.
func (h *Hedger) Stats() Stats { return h.stats.snapshot() }

// transport is a Hedger over one next transport.
type transport struct {
	h    *Hedger
	next http.RoundTripper
}

// RoundTrip implements [http.RoundTripper]; see [Hedger] for the rules.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.h
	h.stats.requests.Add(1)
	caller, home := req, -1
	if h.replicas != nil && req.URL != nil {
		if home = h.replicas.index(req.URL); home < 0 {
			req = withoutCredentials(req) // only listed replicas see them, whatever happens next
		}
	}
	if req.URL == nil || httpx.Upgrade(req) {
		// Malformed: nothing to key or hedge; let next report it. An
		// upgrade: the winner becomes a connection, and a loser's would
		// have to be torn down (issue 11, bug 2), so it is sent once.
		h.stats.passThrough.Add(1)
		return t.next.RoundTrip(req)
	}
	if h.cfg.skip != nil && h.cfg.skip(caller) {
		h.stats.skipped.Add(1)
		return t.next.RoundTrip(req)
	}
	r, ok, err := h.replayable(req)
	if err != nil {
		return nil, err
	}
	if !ok {
		h.stats.passThrough.Add(1)
		return t.next.RoundTrip(r)
	}
	return t.race(r, caller, home)
}

// CloseIdleConnections closes next's idle connections if it can, so that
// [http.Client.CloseIdleConnections] reaches through the stage.
func (t *transport) CloseIdleConnections() { httpx.CloseIdle(t.next) }

// replayable returns the request attempts are cloned from, and whether it
// may be hedged (see [httpx.ReplayableIf]: a body without GetBody is copied,
// up to 1 MiB, only when the classifier would hedge the request).
func (h *Hedger) replayable(req *http.Request) (*http.Request, bool, error) {
	r, ok, err := httpx.ReplayableIf(req, h.cfg.classifier.Replayable, 0)
	if err != nil {
		return nil, false, fmt.Errorf("hedge: %w", err)
	}
	return r, ok, nil
}

// race sends req's original attempt on the caller's goroutine, with the
// first hedge's timer armed, and returns the race's result. caller is the
// request as the caller passed it, for hooks; home is the listed replica
// req targets, -1 if none (its hedges then go to its own URL).
func (t *transport) race(req, caller *http.Request, home int) (*http.Response, error) {
	h := t.h
	parent := req.Context()
	deposits := !attempt.Charged(parent, h.cfg.budget)
	if deposits {
		h.cfg.budget.Deposit()
	}
	now := time.Now()
	r := &race{t: t, parent: parent, caller: caller, req: req, start: now, sent: 1, inflight: 1, reports: deposits}
	if h.cfg.sched.mode == modeAdaptive {
		r.est = h.hosts.get(req.URL.Host, now)
		r.est.start(now)
		if home >= 0 {
			h.replicas.track(home, req.URL.Host)
		}
	}
	r.unit, r.rated = h.cfg.sched.adaptiveBase(r.est, now)

	traced, gate := httpx.GateTrace(parent) // parent itself, and nil, without a ClientTrace
	ctx, cancel := context.WithCancel(traced)
	r.trace = gate
	r.first = attemptCtx{Context: ctx, r: r, n: 1, mark: &h.marks[0], cancel: cancel, replica: int16(home + 1)}
	r.mu.Lock() // the timer's callback reads r.timer under mu
	r.timer = h.timers.arm(r, h.cfg.sched.at(1, r.unit))
	r.mu.Unlock()

	areq, _ := httpx.Attempt(&r.first, req, 1) // cannot fail for the first attempt
	r.sendOriginal(areq)
	return r.wait()
}
