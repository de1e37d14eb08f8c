package hedge

import (
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// The caller's side of a race: waiting for the decision, then counting it,
// announcing it and handing it over, all on the caller's goroutine.

// wait returns the race's result once it is decided, or the caller's
// context error if that context ends first. It runs on the caller's
// goroutine, and so do the statistics, OnComplete and, if the race ended
// in a panic, the panic raised again.
func (r *race) wait() (*http.Response, error) {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done != nil {
		// A hedge was launched, so the decision may be another
		// goroutine's: done is closed once it is settled. (Without a
		// hedge the original's report has decided it already.)
		select {
		case <-done:
		case <-r.parent.Done():
			var st step
			r.mu.Lock()
			r.endIfIdleLocked(&st, time.Now())
			r.mu.Unlock()
			r.apply(&st)
			<-done
		}
	}
	return r.finish()
}

// finish counts and announces the decided race and returns its result, or
// raises its panic. The logger, the observer, the classifier and
// OnComplete it calls may panic too: the response the caller then never
// sees is discarded on the way out.
func (r *race) finish() (*http.Response, error) {
	h := r.t.h
	r.mu.Lock()
	info := CompleteInfo{Request: r.caller, Sent: r.sent, Duration: r.took, Err: r.outErr}
	var wonAt *replica // the listed replica the winner went to, if any
	if r.won {
		info.Winner = r.from.n
		if i := r.from.replicaIndex(); i >= 0 {
			wonAt = &h.replicas.list[i]
		}
	}
	out, p := r.out, r.panicVal
	r.mu.Unlock()
	if p != nil {
		// A panic in the decision log took over a decision not yet
		// announced (see calloutPanicked): its answer is never returned.
		httpx.Discard(out, nil)
		out = nil
	}
	returned := false
	defer func() {
		if !returned {
			httpx.Discard(out, nil)
		}
	}()
	if out != nil {
		info.StatusCode = out.StatusCode
	}
	switch {
	case info.Winner == 1:
		h.stats.originalWins.Add(1)
	case info.Winner > 1:
		h.stats.hedgeWins.Add(1)
	default:
		h.stats.failed.Add(1)
	}
	if info.Winner > 1 {
		logWon(r.parent, h.cfg.logger, decision.StageHedge, &info, wonAt)
	}
	// Under an enclosing retry or hedge stage the race is one attempt of
	// that stage's, which records the logical request's outcome.
	if decision.Enabled(r.parent, h.cfg.logger, decision.Outcome) && !attempt.Enclosed(r.parent) {
		kind := idempotency.Fatal // a panic decided
		if p == nil {
			kind = h.cfg.classifier.Classify(r.req, out, info.Err).Kind
		}
		logOutcome(r.parent, h.cfg.logger, decision.StageHedge, &info, kind)
	}
	if hook := h.cfg.onComplete; hook != nil {
		hook(info)
	}
	returned = true
	if p != nil {
		panic(p)
	}
	return out, info.Err
}
