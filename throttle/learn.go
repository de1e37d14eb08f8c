package throttle

import (
	"net/http"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
)

// learn settles an admitted request's ticket with what came back, and
// teaches the host's parts what the response says:
//
//   - a pause (capped at MaxPause) closes the gate for every request, and
//     is reported to an enclosing hedge race (attempt.Feedback), which then
//     stops hedging the request;
//   - a probe's answer opens the gate or keeps it closed; a probe that got
//     no response (an error) passes the probe role on;
//   - adaptive throttling counts the request as accepted or not, except a
//     pause (the gate handles it), a cancellation or an inner stage's
//     rejection (the host said nothing);
//   - the pacing learns the host's quota from its headers, or, for a host
//     that sends none, cuts its rate on a 429 and grows it on successes
//     (see aimd).
func (t *Throttle) learn(h *host, tk *ticket, req *http.Request, resp *http.Response, err error) {
	now := time.Now()
	if tk.inFlight {
		tk.inFlight = false
		h.sent.Add(-1)
	}
	kind := t.s.classifier.Classify(req, resp, err).Kind
	var sig signal
	if err == nil && resp != nil {
		sig = readSignal(resp.Header, kind.Retryable(), now)
	}
	pause := min(sig.pause, t.s.maxPause)
	if pause > 0 {
		h.pace.pausedUntil(now, now.Add(pause), sig.quotaBackBy(pause))
		if h.gate.pause(now.Add(pause)) {
			t.stats.pauses.Add(1)
			t.logPause(req, h, resp, pause)
			t.sharePause(req, h, pause)
		}
		reportPause(req, now.Add(pause))
	}
	if pause > 0 || kind == idempotency.Throttled {
		h.pushedBack.Store(now.UnixNano())
	}
	unanswered := kind == idempotency.Canceled || kind == idempotency.Rejected
	if !unanswered {
		// Before the answer ends the debut or opens the gate: the
		// requests they release take their turns from a bucket that
		// already knows what the answer said (a quota, a remaining count).
		throttled := kind == idempotency.Throttled
		success := kind == idempotency.Success || kind == idempotency.Final
		h.pace.learn(now, sig, throttled, success, tk.pacedAt, tk.limited, tk.alone)
	}
	if tk.debut {
		tk.debut = false
		h.debut.settle(!unanswered)
	}
	if tk.probe {
		tk.probe = false // settled: abandon, after a panic below, has nothing to do
		switch {
		case pause > 0:
			h.gate.settle(now, probePushback)
		case err != nil || resp == nil:
			// Canceled, refused by an inner stage, timed out, or failed
			// on the way: the host said nothing about its pause, so the
			// next waiter asks it again, one at a time.
			h.gate.settle(now, probeAbandoned)
		default:
			h.gate.settle(now, probeOpen)
		}
	}
	if tk.slot {
		tk.slot = false
		h.slots.release()
	}
	if pause == 0 && !unanswered {
		h.adaptive.record(now, accepted(kind, err))
	}
}

// reportPause tells an enclosing hedge race that the host asked for a
// pause until until: it sends no further hedges of this request, which
// would only meet the closed gate (issue 11, bug 10).
func reportPause(req *http.Request, until time.Time) {
	if fb := attempt.FeedbackFrom(req.Context()); fb != nil {
		fb.Report(attempt.Report{PauseUntil: until})
	}
}

// accepted reports whether the host accepted the request, for adaptive
// throttling: it answered with a response it did not mean as a refusal.
// Throttled and transient responses (429, 503, 502, ...) are refusals;
// transport errors are requests the host did not accept either.
func accepted(k idempotency.Kind, err error) bool {
	if err != nil {
		return false
	}
	return k == idempotency.Success || k == idempotency.Final || k == idempotency.Fatal
}

// abandon settles what is left of a ticket whose request never returned
// (the next transport panicked) or whose learning panicked half-way (the
// classifier, the logger, Config.Shared): the slot is freed and the probe
// passed on, and nothing more is learned.
func (t *Throttle) abandon(h *host, tk *ticket) {
	if tk.inFlight {
		h.sent.Add(-1)
	}
	if tk.debut {
		h.debut.settle(false)
	}
	if tk.probe {
		h.gate.settle(time.Now(), probeAbandoned)
	}
	if tk.slot {
		h.slots.release()
	}
}
