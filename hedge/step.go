package hedge

import (
	"context"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/internal/httpx"
)

// A race changes state only under its mutex, in methods that call out to
// nothing (see [race]); what a change leaves to do is collected in a step
// and carried out once the mutex is released.

// step is what a locked transition leaves to do once mu is released.
type step struct {
	launch  *attemptCtx // a hedge to start on its own goroutine
	reason  Reason
	elapsed time.Duration
	stop    *hedgeTimer   // a timer to stop and recycle
	drops   []droppedResp // failed responses that will not be returned
	record  time.Duration // the original's latency to record; 0 for none
	ended   time.Time     // when what record measures ended: the estimator's now
	settle  bool          // the race was decided: cancel the losers, signal the caller

	pushedBy, pushStatus int // the attempt whose pushback stopped hedging, and its status
	// denied is a hedge due but not sent, deniedWhy why, and deniedErr
	// the error that kept it from being built.
	denied    int
	deniedWhy decision.Reason
	deniedErr error
}

// droppedResp is a response to drain and close, and its attempt's cancel
// function, run after the drain so the connection survives.
type droppedResp struct {
	resp   *http.Response
	cancel context.CancelFunc
}

// dropLocked discards resp, attempt a's response, once the lock is released.
// (An attempt without a response was canceled when it reported.)
func (st *step) dropLocked(a *attemptCtx, resp *http.Response) {
	if resp != nil {
		st.drops = append(st.drops, droppedResp{resp, a.cancel})
	}
}

// apply carries out st with no lock held. The decisions st records go to
// the decision log first, whose logger and observer are the user's code:
// if one panics, the panic is the race's (see logStep), and the rest of st
// is carried out all the same, deferred so that even a runtime.Goexit
// there leaves no timer armed and no caller waiting.
func (r *race) apply(st *step) {
	if st.pushedBy > 0 || st.denied > 0 {
		defer r.effects(st)
		r.logStep(st)
		return
	}
	r.effects(st)
}

// effects carries out what st leaves to do, with no lock held; it calls
// nothing outside the stage.
func (r *race) effects(st *step) {
	if st.stop != nil {
		r.t.h.timers.release(st.stop)
	}
	for _, d := range st.drops {
		httpx.Discard(d.resp, d.cancel)
	}
	if st.record > 0 && r.est != nil {
		r.est.record(st.record, st.ended)
	}
	if st.settle {
		r.settle()
	}
	if st.launch != nil {
		go r.run(st.launch, st.reason, st.elapsed)
	}
}
