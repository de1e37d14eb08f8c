package throttle

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/internal/outage"
	"github.com/tailguard/tailguard/internal/saturate"
)

// stageName is the stage attribute of the throttle's log records.
const stageName = string(decision.StageThrottle)

// takePace takes a token for w's request at now: from the fleet's quota
// when Config.Shared is set and answers; else from this process's share of
// it, once known; else from the host's own bucket. It returns the wait
// before the request may go and whether it may; a local reservation the
// caller must cancel if it does not send; when the fleet's gate for the
// host is closed, the pause left (nothing is taken then); and, for a turn
// in the fleet's schedule, how late the request may take it (see
// missedTurn), or fallbackTurn for a turn of local state taken while the
// store failed, 0 for a turn of the process's own pacing.
//
// The fleet's schedule runs at the host's quota as this process knows it
// (configured, or learned from the host's headers), which is the same for
// every process. What AIMD learns from bare 429s is this process's own
// estimate — a cut of the rate this process was sending at — so it paces
// this process alone, in front of the fleet's schedule, and never slows
// the others: written into the shared schedule it would be taken as the
// whole fleet's rate (one 429 Retry-After: 2 to one of two processes cut
// the fleet to 10-12/s of a 16/s demand for 9 s, and 70 of 224 requests
// were refused).
func (t *Throttle) takePace(w *waiter, now time.Time) (wait time.Duration, res *rate.Reservation, ok bool, paused, slack time.Duration) {
	maxWait := t.paceWait(w, now)
	if t.s.shared == nil {
		wait, res, ok = w.h.pace.take(now, maxWait)
		return wait, res, ok, 0, 0
	}
	q := w.h.pace.quota()
	// capped: AIMD holds this process below the quota. Its own bucket is
	// asked first, so a request it refuses costs the fleet no token.
	var ownWait time.Duration
	capped := w.h.pace.below(q.Rate)
	if capped {
		if ownWait, res, ok = w.h.pace.take(now, maxWait); !ok {
			return ownWait, nil, false, 0, 0
		}
	}
	r, failing, err := t.reserveShared(w, now, q, maxWait)
	switch {
	case err != nil:
		// Calls that fail within a moment of the store answering may be
		// one slow spell (a stalled process, a GC pause), and the fleet
		// may even have granted the token: the request goes only on a
		// share token that is free now. Once the store has failed for a
		// while, the process paces itself at its share, waiting as usual.
		// A process AIMD holds below its share keeps to its own bucket.
		if capped && !w.h.share.above(w.h.pace) {
			return ownWait, res, true, 0, fallbackTurn
		}
		if res != nil {
			res.CancelAt(now)
		}
		// The same threshold logs the outage: failures shorter than it
		// are a slow spell, not an outage.
		shareWait := maxWait
		if failing < outage.LogAfter {
			shareWait = 0
		}
		if wait, res, ok, known := w.h.share.take(now, shareWait); known {
			return wait, res, ok, 0, fallbackTurn
		}
		wait, res, ok = w.h.pace.take(now, maxWait)
		return wait, res, ok, 0, fallbackTurn
	case r.Paused > 0:
		return 0, res, false, r.Paused, 0
	case !r.OK:
		return r.Delay, res, false, 0, 0
	}
	w.h.share.granted(now, now.Add(r.Delay), q.Rate, q.Burst, r.Processes)
	return max(r.Delay, ownWait), res, true, 0, turnSlack(q.Rate)
}

// missedTurn reports whether a request that waited for its turn in the
// fleet's schedule, at turn, woke more than slack after it: its process was
// not running meanwhile (descheduled on a loaded machine, a GC pause), or
// the store's answer came late. Sent now, it would reach the host together
// with the turns after it, its own process's that woke late with it and
// the other processes' on time: a burst the schedule never granted, which
// can empty the host's burst and cost the whole fleet the pause the host
// then asks for. It asks the schedule again instead; the turn it missed is
// lost, so the fleet sends less, never more. (On the 2-core test machine
// a stall of every process for 80-130 ms released a dozen late turns at
// once, and the quota lab's upstream, its burst of 10 emptied, answered
// "RateLimit: r=0;t=1": a 1 s pause for the fleet, 5% of the run.)
func missedTurn(turn time.Time, slack time.Duration) bool {
	return slack > 0 && time.Since(turn) > slack
}

// fallbackTurn marks a turn of local state that a request took while the
// store failed (its process's share of the quota, or its own bucket).
const fallbackTurn time.Duration = -1

// fallbackVoid reports whether a request that waited for a turn of local
// state, taken while the store failed, should ask the fleet's schedule
// again instead: the store has answered since. The fleet's schedule starts
// afresh when the store answers again, and knows nothing of the turns the
// processes took from their shares meanwhile, up to MaxWait ahead: sent,
// they would go on top of the turns it grants from then on. (When Redis
// came back in the fault run, the fleet sent twice the quota for a
// moment, and the upstream paused it for a second.)
func (t *Throttle) fallbackVoid(slack time.Duration) bool {
	return slack == fallbackTurn && !t.outage.Failing()
}

// minTurnSlack is how late a request may always take its turn in the
// fleet's schedule: a timer's usual lateness on a busy machine.
const minTurnSlack = 20 * time.Millisecond

// turnSlack is how late a request may take its turn in the fleet's
// schedule at rate: one emission interval (a request that late goes at
// most together with the next turn), at least minTurnSlack.
func turnSlack(r rate.Limit) time.Duration {
	if r == rate.Inf || r <= 0 {
		return 0 // no schedule: every request goes when the gate lets it
	}
	return max(minTurnSlack, saturate.Seconds(1/float64(r)))
}

// reserveShared asks Config.Shared for a token of the host's quota q. A
// failure is logged once per outage, and failing is how long the store
// has been failing; the caller then uses local state.
func (t *Throttle) reserveShared(w *waiter, now time.Time, q Quota, maxWait time.Duration) (res Reservation, failing time.Duration, err error) {
	res, err = t.s.shared.Reserve(w.ctx, w.h.name, q, max(0, maxWait))
	return res, t.noteShared(w.ctx, w.h.name, err, now), err
}

// fleetPause closes w's host's gate for d, the pause left on the fleet's
// gate: another process received it. The first request to learn it counts
// it in Stats.Pauses and records it as paused, reason fleet, as a pause a
// response asked for is recorded with reason pushback in the process that
// received it.
func (t *Throttle) fleetPause(w *waiter, now time.Time, d time.Duration) {
	until := now.Add(d)
	w.h.gate.pause(until)
	if !w.h.share.newPause(until) {
		return
	}
	t.stats.pauses.Add(1)
	if decision.Enabled(w.ctx, t.s.logger, decision.Paused) {
		decision.Emit(w.ctx, t.s.logger, decision.Event{Stage: decision.StageThrottle, Name: decision.Paused,
			Host: w.h.name, Request: w.req, Reason: decision.ReasonFleet, Wait: d})
	}
}

// sharePause tells the fleet about a pause a response asked for. It runs
// on the response's way back, after the local gate has closed; the
// caller's cancellation does not stop it, since the pause concerns every
// request to the host, and the store bounds the call.
func (t *Throttle) sharePause(req *http.Request, h *host, d time.Duration) {
	if t.s.shared == nil {
		return
	}
	// This process knows the pause already: meeting it on the fleet's gate
	// later (its local gate may open a moment before the fleet's) is not
	// another.
	h.share.newPause(time.Now().Add(d))
	ctx := context.WithoutCancel(req.Context())
	t.noteShared(ctx, h.name, t.s.shared.Pause(ctx, h.name, d), time.Now())
}

// noteShared logs the store's outages, once each, and reports how long
// the store has been failing (0 if err began an outage or is nil). An
// error caused by the caller's own context says nothing about the store.
func (t *Throttle) noteShared(ctx context.Context, key string, err error, now time.Time) time.Duration {
	switch {
	case err == nil:
		t.outage.Up(ctx, t.s.logger, stageName, key)
	case ctx.Err() == nil:
		return t.outage.Down(ctx, t.s.logger, stageName, key, err, now)
	}
	return 0
}
