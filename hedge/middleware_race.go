package hedge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
)

// ErrLostRace is the cause, as reported by [context.Cause], with which a
// [Middleware] cancels a run's context when another run of the same request
// answered first. A handler can tell it from the client going away
// (context.Canceled) and from [MiddlewareConfig.Timeout]
// (context.DeadlineExceeded), for instance to avoid logging it as an error.
var ErrLostRace = errors.New("hedge: another run answered first")

// ErrResponseTooLarge is what a hedged run's writes return once its body
// has outgrown [MiddlewareConfig.MaxResponse] and the run cannot answer
// the client: its status is a failing one. Its output is never sent.
var ErrResponseTooLarge = errors.New("hedge: response body outgrew MaxResponse in a run that cannot win")

// run is one run of the handler for a hedged request.
type run struct {
	n      int
	ctx    markedCtx // a child of the race's context carrying the attempt mark
	cancel context.CancelCauseFunc
	req    *http.Request // the run's own clone of the request
	body   runBody
	rec    recorder
	resp   http.Response // the classifier's view of rec, once the run finished (or claimed)
	client http.ResponseWriter
	report chan<- *run // the race's results
	judge  idempotency.Classifier

	// Set by the run's goroutine before it reports.
	panicked bool
	panicVal any
	claiming bool       // this report claims the win for an outgrown body; reset by the race
	verdict  chan error // the answer to the claim: nil to write through
}

// serverRace is one hedged request. Unlike the client's race, it needs no
// lock: the ServeHTTP goroutine owns every field and runs the event loop
// (run reports, the hedge timer, the end of the context); a run's goroutine
// only executes the handler and reports through results.
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
	results chan *run     // room for two reports per run (a claim, the end), so a report never blocks

	first    run // run 1, in the same allocation
	runs     [maxHedgesLimit + 1]*run
	sent     int    // runs started
	next     int    // the next hedge (1-based) the schedule may fire
	pending  uint16 // bit n-1 is set while run n is going
	timer    *time.Timer
	timerC   <-chan time.Time // timer.C while a hedge remains; nil after
	failed   *run             // latest run that finished with a failing status
	panicked *run             // latest run that panicked
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
		results: make(chan *run, 2*(m.cfg.sched.hedges+1))}
	if m.cfg.sched.mode == modeAdaptive {
		s.est = h.routes.get(r.Pattern, now)
	}
	s.unit = m.cfg.sched.base(s.est, now)
	if len(w.Header()) > 0 {
		// Runs start from the headers outer middleware set, but from a
		// copy: whoever answers rewrites the real map while losing runs
		// may still be reading theirs.
		s.base = w.Header().Clone()
	}
	s.launch(1)
	s.timer = m.timers.get(m.cfg.sched.at(1, s.unit))
	s.timerC = s.timer.C

	out, winner, err := s.loop()
	m.timers.put(s.timer)
	if out != nil && out.claiming {
		s.writeThrough(out)
		return
	}
	end := time.Now()
	for _, ru := range s.runs[:s.sent] {
		ru.cancel(ErrLostRace) // no effect on a context the Timeout or the client already ended
	}
	s.answer(out, winner, err, end)
}

// writeThrough lets out, whose claim won the race while its handler is
// still writing, answer the client directly, and waits for its handler to
// return.
func (s *serverRace) writeThrough(out *run) {
	for _, ru := range s.runs[:s.sent] {
		if ru != out {
			ru.cancel(ErrLostRace)
		}
	}
	out.claiming = false
	out.verdict <- nil
	for ru := range s.results {
		if ru == out && !ru.claiming {
			break // out's handler returned; other runs' reports no longer matter
		}
	}
	end := time.Now()
	ended := context.Cause(&out.ctx) // non-nil if the response may be incomplete
	out.cancel(ErrLostRace)
	s.answerWrittenThrough(out, ended, end)
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
			s.fire(ReasonDelay)
		case <-s.parent.Done():
			return s.fallback(), 0, s.parent.Err()
		}
	}
}

// report takes in a finished run and says whether that decides the race.
func (s *serverRace) report(ru *run) (out *run, winner int, err error, done bool) {
	now := time.Now()
	if ru.claiming {
		if ru.ctx.Err() != nil || s.parent.Err() != nil {
			// Ending anyway: the run stops waiting for an answer by itself,
			// and its end is reported next.
			ru.claiming = false
			return nil, 0, nil, false
		}
		s.won(ru, now)
		return ru, ru.n, nil, true
	}
	s.pending &^= 1 << (ru.n - 1)
	switch {
	case ru.ctx.Err() != nil:
		// Before the decision only the request's end or the Timeout cancel
		// a run, and what a canceled handler wrote is no answer.
		if err = s.parent.Err(); err == nil {
			err = context.Cause(&ru.ctx)
		}
		return s.fallback(), 0, err, true
	case ru.panicked:
		s.panicked = ru
	default:
		status, header := ru.rec.result()
		ru.resp = http.Response{StatusCode: status, Header: header, Body: http.NoBody, Request: ru.req}
		if ru.n == 1 {
			s.record(now)
		}
		k := ru.classify()
		if ru.rec.cutOff != nil && wins(k) {
			// A custom classifier may change its mind once the body is
			// cut off (headers can still change), but a truncated body
			// must never answer.
			k = idempotency.Transient
		}
		if wins(k) {
			s.won(ru, now)
			return ru, ru.n, nil, true
		}
		if ru.rec.cutOff == nil {
			s.failed = ru // a cut-off body must never reach the client
		}
		switch {
		case pushedBack(&ru.resp):
			// The handler's backend asked for a pause, whatever the
			// status (a 500 or 502 with Retry-After too): another run
			// now, or on the timer, would ignore it. Runs going may
			// still win.
			s.next = s.h.m.cfg.sched.hedges + 1
			s.stopTimer()
		case firesNext(k):
			s.fire(ReasonFailure)
		}
	}
	if s.pending == 0 {
		return s.fallback(), 0, nil, true
	}
	return nil, 0, nil, false
}

// fallback is the run whose output answers the client when no run won:
// the latest failing response, else the latest panic, else none.
func (s *serverRace) fallback() *run {
	if s.failed != nil {
		return s.failed
	}
	return s.panicked
}

// won records the latency a winning run ru implies, at now. Run 1's own
// latency was recorded when it reported, unless it is ru's claim.
func (s *serverRace) won(ru *run, now time.Time) {
	if (ru.n == 1 && ru.claiming) || (ru.n > 1 && s.pending&1 != 0) {
		// Run 1 answers before its handler returned, or is about to be
		// canceled: count it as at least as slow as it has been so far,
		// as the client stage does.
		s.record(now)
	}
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
		return
	}
	n := s.sent + 1
	if n == 2 {
		m.stats.hedged.Add(1)
	}
	m.stats.hedges.Add(1)
	elapsed := time.Since(s.start)
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
	ru.client = s.w
	ru.report = s.results
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
	go s.h.serve(ru, s.results)
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

// serve runs the handler for ru and reports it, even if it panics.
func (h *handler) serve(ru *run, results chan<- *run) {
	defer func() {
		if p := recover(); p != nil {
			ru.panicked, ru.panicVal = true, p
		}
		results <- ru
	}()
	h.next.ServeHTTP(&ru.rec, ru.req)
}

// classify is the classifier's verdict on ru.resp.
func (ru *run) classify() idempotency.Kind {
	return ru.judge.Classify(ru.req, &ru.resp, nil).Kind
}

// outgrow is called on run ru's goroutine when its body outgrows
// MaxResponse. A run whose status can win claims the race and waits for
// the answer; if it won, it writes its headers and what it buffered to the
// client and returns the client's writer for the rest.
func (ru *run) outgrow() (io.Writer, error) {
	status, header := ru.rec.result()
	ru.resp = http.Response{StatusCode: status, Header: header, Body: http.NoBody, Request: ru.req}
	if !wins(ru.classify()) {
		return nil, ErrResponseTooLarge
	}
	ru.verdict = make(chan error, 1)
	ru.claiming = true
	ru.report <- ru
	select {
	case err := <-ru.verdict:
		if err != nil {
			return nil, err
		}
	case <-ru.ctx.Done():
		return nil, context.Cause(&ru.ctx)
	}
	ru.rec.writeHead(ru.client)
	return ru.client, nil
}

// answer writes out's output (or the middleware's 503) to the client,
// counts the result and reports it to OnComplete. A panicking out is
// raised again once OnComplete has returned.
func (s *serverRace) answer(out *run, winner int, err error, end time.Time) {
	s.count(winner)
	info := CompleteInfo{Request: s.r, Winner: winner, Sent: s.sent, Duration: end.Sub(s.start), Err: err}
	var abort any
	switch {
	case out == nil:
		http.Error(s.w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		info.StatusCode = http.StatusServiceUnavailable
	case out.panicked:
		if info.Err == nil {
			info.Err = fmt.Errorf("hedge: run %d panicked: %v", out.n, out.panicVal)
		}
		abort = out.panicVal
	default:
		out.rec.writeTo(s.w)
		info.StatusCode = out.resp.StatusCode
	}
	s.complete(info, abort)
}

// answerWrittenThrough completes the answer of out, which wrote through to
// the client, and counts it. ended is the cause of out's context if it had
// ended when the handler returned: the body may then be incomplete, and
// the response is aborted instead of ended as if whole.
func (s *serverRace) answerWrittenThrough(out *run, ended error, end time.Time) {
	s.count(out.n)
	info := CompleteInfo{Request: s.r, Winner: out.n, Sent: s.sent, Duration: end.Sub(s.start),
		StatusCode: out.resp.StatusCode, Err: ended}
	var abort any
	switch {
	case out.panicked:
		info.Err = fmt.Errorf("hedge: run %d panicked: %v", out.n, out.panicVal)
		abort = out.panicVal
	case ended != nil:
		abort = http.ErrAbortHandler
	default:
		out.rec.writeTrailers(s.w)
	}
	s.complete(info, abort)
}

// count adds the race's outcome to the statistics: which run won, if any.
func (s *serverRace) count(winner int) {
	st := &s.h.m.stats
	switch {
	case winner == 1:
		st.originalWins.Add(1)
	case winner > 1:
		st.hedgeWins.Add(1)
	default:
		st.failed.Add(1)
	}
}

// complete reports info to OnComplete, then raises abort, a panic value,
// if there is one: after the hook, so that it still hears of the request.
func (s *serverRace) complete(info CompleteInfo, abort any) {
	if h := s.h.m.cfg.onComplete; h != nil {
		h(info)
	}
	if abort != nil {
		panic(abort)
	}
}
