package hedge

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/internal/attempt"
)

// serverRace is one hedged request. Unlike the client's race, it needs no
// lock: the ServeHTTP goroutine owns every field and runs the event loop
// (run reports, the hedge timer, the end of the context). A run's
// goroutine executes the handler and reports once through results (see
// [run]). Only the ServeHTTP goroutine writes to the client, except for a
// run that won while writing: from its verdict until its done, while the
// ServeHTTP goroutine waits.
type serverRace struct {
	h       *handler
	w       http.ResponseWriter
	r       *http.Request // the caller's request: cloned per run, passed to hooks
	body    []byte        // the buffered request body; empty if none
	base    http.Header   // a copy of the real writer's headers when the race began; read-only
	parent  context.Context
	start   time.Time
	unit    time.Duration // this request's delay unit (see schedule.at)
	est     *estimator    // the route's estimator; nil unless adaptive
	rated   bool          // unit is est's own estimate, which the route's hedge rate may overrule
	results chan *run     // room for every run's one report, so a report never blocks

	first    run // run 1, in the same allocation
	runs     [maxHedgesLimit + 1]*run
	sent     int    // runs started
	next     int    // the next hedge (1-based) the schedule may fire
	pending  uint16 // bit n-1 is set until run n reports
	timer    *time.Timer
	timerC   <-chan time.Time // timer.C while a hedge remains; nil after
	failed   *run             // latest run that reported a failing status with its whole body
	panicked *run             // latest run that panicked
	over     atomic.Bool      // the race is decided: reports from now on are not read (see dropUnread)
}

// race serves a hedged request: it runs the handler, hedges it, and writes
// the answer.
func (h *handler) race(w http.ResponseWriter, r *http.Request, body []byte) {
	m := h.m
	if !attempt.Charged(r.Context(), m.cfg.budget) {
		m.cfg.budget.Deposit()
	}
	parent := r.Context()
	if m.timeout > 0 {
		var cancel context.CancelFunc
		parent, cancel = context.WithTimeout(parent, m.timeout)
		defer cancel()
	}
	now := time.Now()
	s := &serverRace{h: h, w: w, r: r, body: body, parent: parent, start: now, next: 1,
		results: make(chan *run, m.cfg.sched.hedges+1)}
	if m.cfg.sched.mode == modeAdaptive {
		s.est = h.routes.get(r.Pattern, now)
		s.est.start(now)
	}
	s.unit, s.rated = m.cfg.sched.adaptiveBase(s.est, now)
	if len(w.Header()) > 0 {
		// Runs start from the headers outer middleware set, but from a
		// copy: whoever answers rewrites the real map while losing runs
		// may still be reading theirs.
		s.base = w.Header().Clone()
	}
	s.timer = m.timers.get(m.cfg.sched.at(1, s.unit))
	s.timerC = s.timer.C
	// However ServeHTTP leaves — also by a panicking hook or a panic
	// raised again — no run goes on and the timer is stopped.
	defer s.release()
	s.launch(1)

	out, winner, err := s.loop()
	end := time.Now()
	s.dropUnread(out)
	cause := ErrLostRace
	if err != nil {
		// The Timeout or the client ended the race. Its cause may not have
		// reached every run yet: the context package closes a parent's
		// Done before it cancels the children.
		cause = context.Cause(s.parent)
	}
	for _, ru := range s.runs[:s.sent] {
		if ru != out {
			ru.cancel(cause)
		}
	}
	s.answer(out, winner, err, end)
}

// release cancels every run and recycles the timer.
func (s *serverRace) release() {
	for _, ru := range s.runs[:s.sent] {
		ru.cancel(nil)
	}
	s.h.m.timers.put(s.timer)
}

// loop waits for the race to be decided. It returns the run whose output
// answers the client (nil for the middleware's own 503), the winning run's
// number (0 if none won), and the context's error if it ended first.
func (s *serverRace) loop() (out *run, winner int, err error) {
	for {
		select {
		case ru := <-s.results:
			if out, winner, err, done := s.report(ru); done {
				return out, winner, err
			}
		case <-s.timerC:
			if !s.deferred() {
				s.fire(ReasonDelay)
			}
		case <-s.parent.Done():
			return s.fallback(), 0, s.parent.Err()
		}
	}
}

// report takes in a finished run and says whether that decides the race.
// A run whose body outgrew MaxResponse reports as finished, judged by the
// status and headers it had then, and waits for its verdict (see
// [run.outgrow]).
func (s *serverRace) report(ru *run) (out *run, winner int, err error, done bool) {
	now := time.Now()
	s.pending &^= 1 << (ru.n - 1)
	if ru.done == nil {
		ru.claimed.Store(true) // its panic, if any, is the race's
	}
	switch {
	case ru.ctx.Err() != nil:
		// Before the decision only the request's end or the Timeout cancel
		// a run, and what a canceled handler wrote is no answer.
		if err = s.parent.Err(); err == nil {
			err = context.Cause(&ru.ctx)
		}
		if ru.panicked {
			s.dropRun(ru)
		}
		return s.fallback(), 0, err, true
	case ru.panicked:
		if s.panicked != nil {
			s.dropRun(s.panicked) // only the latest can be raised
		}
		s.panicked = ru
	default:
		if ru.n == 1 {
			s.record(now)
		}
		if wins(ru.kind) {
			if ru.n > 1 && s.pending&1 != 0 {
				// Run 1 is about to be canceled: count it as at least as
				// slow as it has been so far, as the client stage does.
				s.record(now)
			}
			return ru, ru.n, nil, true
		}
		if ru.verdict != nil {
			ru.verdict <- ErrResponseTooLarge // a cut-off body must never reach the client
		} else {
			s.failed = ru
		}
		switch {
		case ru.pause || stopsHedging(ru.kind, nil):
			// The handler's backend refused (a 429) or asked for a
			// pause, whatever the status (a 500 or 502 with Retry-After
			// too): another run now, or on the timer, would ignore it.
			// Runs going may still win.
			if s.next <= s.h.m.cfg.sched.hedges {
				logStopped(s.r.Context(), s.h.m.cfg.logger, decision.StageMiddleware, s.r, ru.n, ru.resp.StatusCode)
			}
			s.next = s.h.m.cfg.sched.hedges + 1
			s.stopTimer()
		case firesNext(ru.kind):
			s.fire(ReasonFailure)
		}
	}
	if s.pending == 0 {
		return s.fallback(), 0, nil, true
	}
	return nil, 0, nil, false
}

// dropUnread ends the race's reading of run reports: runs that panicked,
// other than out, will never be raised, and are dropped (see dropRun):
// those whose reports the loop took in, and those whose reports came too
// late. A run reporting from now on drops its own panic (see run.finish);
// one that reported before is drained here, and claimed exactly once.
func (s *serverRace) dropUnread(out *run) {
	s.over.Store(true)
	if s.panicked != nil && s.panicked != out {
		s.dropRun(s.panicked)
	}
	for {
		select {
		case ru := <-s.results:
			if ru.done == nil && ru.panicked && ru.claimed.CompareAndSwap(false, true) {
				s.dropRun(ru)
			}
		default:
			return
		}
	}
}

// dropRun counts and records the panic of run ru, which no one will
// raise. Recording it calls the logger and the observer, whose own panic
// would reach a run's goroutine here: it is dropped too, uncounted.
func (s *serverRace) dropRun(ru *run) {
	s.h.m.stats.droppedPanics.Add(1)
	defer func() { _ = recover() }()
	logDropped(s.r.Context(), s.h.m.cfg.logger, decision.StageMiddleware, s.r, ru.n,
		&panicError{what: fmt.Sprintf("run %d", ru.n), p: ru.panicVal, stack: ru.stack})
}

// fallback is the run whose output answers the client when no run won:
// the latest failing response, else the latest panic, else none.
func (s *serverRace) fallback() *run {
	if s.failed != nil {
		return s.failed
	}
	return s.panicked
}

// record adds run 1's latency, measured at now, to the route's estimator.
func (s *serverRace) record(now time.Time) {
	if s.est != nil {
		s.est.record(max(now.Sub(s.start), 1), now)
	}
}

// fire starts the next hedge, if one remains and the budget grants it.
func (s *serverRace) fire(reason Reason) {
	m := s.h.m
	sched := &m.cfg.sched
	if s.next > sched.hedges || s.parent.Err() != nil {
		return
	}
	s.next++
	if !m.cfg.budget.Withdraw() {
		// As on the client: hedging into an exhausted budget adds load
		// exactly when the backend is short of it.
		m.stats.budgetDenied.Add(1)
		s.next = sched.hedges + 1
		s.stopTimer()
		logDenied(s.r.Context(), m.cfg.logger, decision.StageMiddleware, s.r, s.sent+1, decision.ReasonBudget, nil)
		return
	}
	n := s.sent + 1
	if n == 2 {
		m.stats.hedged.Add(1)
	}
	m.stats.hedges.Add(1)
	elapsed := time.Since(s.start)
	logHedge(s.r.Context(), m.cfg.logger, decision.StageMiddleware, s.r, nil, n, reason, elapsed)
	if m.cfg.onHedge != nil {
		m.cfg.onHedge(HedgeInfo{Request: s.r, Attempt: n, Elapsed: elapsed, Reason: reason})
	}
	s.launch(n)
	if s.next > sched.hedges {
		s.stopTimer()
		return
	}
	// Later hedges keep their offsets from the start, even when this one
	// fired early.
	s.timer.Reset(max(sched.at(s.next, s.unit)-elapsed, 0))
}

// deferred puts off a delay hedge that would take the route's hedge rate
// past its limit, as the client stage does (see race.deferLocked), and
// reports whether it did.
func (s *serverRace) deferred() bool {
	now := time.Now()
	if !s.rated || s.est.admitHedge(s.h.m.cfg.sched.quantile, s.start, now) {
		return false
	}
	s.h.m.stats.deferred.Add(1)
	s.timer.Reset(max(now.Sub(s.start), time.Millisecond))
	return true
}

func (s *serverRace) stopTimer() {
	s.timer.Stop()
	s.timerC = nil
}

// launch starts run n on its own goroutine.
func (s *serverRace) launch(n int) {
	ru := &s.first
	if n > 1 {
		ru = new(run)
	}
	ru.n = n
	ctx, cancel := context.WithCancelCause(s.parent)
	ru.ctx = markedCtx{Context: ctx, mark: s.h.m.markCtxs[n-1]}
	ru.cancel = cancel
	ru.rec.base = s.base
	ru.rec.limit = int(min(s.h.m.maxResponse, math.MaxInt))
	ru.rec.owner = ru
	ru.report = s.results
	ru.race = s
	ru.client = s.w
	ru.judge = s.h.m.cfg.classifier
	// A deep clone: handlers may modify their request's headers, and runs
	// execute concurrently.
	ru.req = s.r.Clone(&ru.ctx)
	switch {
	case len(s.body) > 0:
		ru.body.Reset(s.body)
		ru.req.Body = &ru.body
	case ru.req.Body != nil:
		ru.req.Body = http.NoBody
	}
	s.runs[n-1] = ru
	s.sent = n
	s.pending |= 1 << (n - 1)
	go s.h.serve(ru)
}

// stoppedTimers recycles a Middleware's hedge timers: an idle hedge then
// costs no timer allocation. Since Go 1.23 a stopped timer never delivers a
// stale tick, so any timer can be reused once stopped. Each Middleware has
// its own pool, for the reason the client stage's timerPool gives.
type stoppedTimers struct{ p sync.Pool }

func (ts *stoppedTimers) get(d time.Duration) *time.Timer {
	if t, _ := ts.p.Get().(*time.Timer); t != nil {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func (ts *stoppedTimers) put(t *time.Timer) {
	t.Stop()
	ts.p.Put(t)
}
