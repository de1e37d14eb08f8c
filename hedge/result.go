package hedge

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
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
// raises its panic.
func (r *race) finish() (*http.Response, error) {
	h := r.t.h
	r.mu.Lock()
	info := CompleteInfo{Request: r.caller, Sent: r.sent, Duration: r.took, Err: r.outErr}
	if r.won {
		info.Winner = r.from.n
	}
	out, p := r.out, r.panicVal
	r.mu.Unlock()
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
	if decision.Enabled(r.parent, h.cfg.logger, decision.Outcome) {
		kind := idempotency.Fatal // a panic decided
		if p == nil {
			kind = h.cfg.classifier.Classify(r.req, out, info.Err).Kind
		}
		logOutcome(r.parent, h.cfg.logger, decision.StageHedge, &info, kind)
	}
	if hook := h.cfg.onComplete; hook != nil {
		complete(hook, info, out)
	}
	if p != nil {
		panic(p)
	}
	return out, info.Err
}

// complete calls OnComplete; if it panics, the response the caller will
// never see is discarded on the way out.
func complete(hook func(CompleteInfo), info CompleteInfo, out *http.Response) {
	returned := false
	defer func() {
		if !returned {
			httpx.Discard(out, nil)
		}
	}()
	hook(info)
	returned = true
}

// abortedErr describes an attempt that ended in a panic, or in
// runtime.Goexit (p nil), for OnComplete and the caller.
func abortedErr(n int, p any) error {
	if p == nil {
		return fmt.Errorf("hedge: attempt %d's goroutine exited (runtime.Goexit)", n)
	}
	return fmt.Errorf("hedge: attempt %d panicked: %v", n, p)
}
