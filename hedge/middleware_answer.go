package hedge

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
)

// answer writes out's output (or the middleware's 503) to the client,
// counts the result and reports it to OnComplete. A panicking out, or one
// whose written-through body may be incomplete, is raised once OnComplete
// has returned.
func (s *serverRace) answer(out *run, winner int, err error, end time.Time) {
	s.count(winner)
	info := CompleteInfo{Request: s.r, Winner: winner, Sent: s.sent, Err: err}
	var abort any
	switch {
	case out == nil:
		http.Error(s.w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		info.StatusCode = http.StatusServiceUnavailable
	case out.verdict != nil:
		info.StatusCode = out.resp.StatusCode
		abort, info.Err = s.writeThrough(out)
		end = time.Now()
	case out.panicked:
		if info.Err == nil {
			info.Err = fmt.Errorf("hedge: run %d panicked: %v", out.n, out.panicVal)
		}
		abort = out.panicVal
	default:
		out.rec.writeTo(s.w)
		info.StatusCode = out.resp.StatusCode
	}
	info.Duration = end.Sub(s.start)
	if winner > 1 {
		logWon(s.r.Context(), s.h.m.cfg.logger, decision.StageMiddleware, &info, nil)
	}
	if ctx := s.r.Context(); decision.Enabled(ctx, s.h.m.cfg.logger, decision.Outcome) {
		logOutcome(ctx, s.h.m.cfg.logger, decision.StageMiddleware, &info, answerKind(out, err))
	}
	s.complete(info, abort)
}

// answerKind is the outcome kind of the answer: the answering run's
// verdict, or the request's end, or a panic; the middleware's own 503 is
// transient.
func answerKind(out *run, err error) idempotency.Kind {
	switch {
	case err != nil:
		return idempotency.Canceled
	case out == nil:
		return idempotency.Transient
	case out.panicked:
		return idempotency.Fatal
	}
	return out.kind
}

// writeThrough lets out, which won when its body outgrew MaxResponse,
// write to the client itself, and waits for its handler to return. If the
// body may be incomplete — the handler panicked, or its context ended
// first (the client left, or the Timeout elapsed) — it returns what
// ServeHTTP must panic with, so that net/http breaks the connection
// instead of ending the body as if it were whole, and why.
func (s *serverRace) writeThrough(out *run) (abort any, err error) {
	if !out.claimed.CompareAndSwap(false, true) {
		// The run panicked first, with its context ended (the client
		// left, or the Timeout elapsed), and dropped the panic.
		<-out.done
		return http.ErrAbortHandler, context.Cause(&out.ctx)
	}
	out.verdict <- nil
	<-out.done
	switch {
	case out.panicked:
		return out.panicVal, fmt.Errorf("hedge: run %d panicked: %v", out.n, out.panicVal)
	case out.ctx.Err() != nil:
		return http.ErrAbortHandler, context.Cause(&out.ctx)
	}
	out.rec.writeTrailers(s.w)
	return nil, nil
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
