package throttle

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// stageName is the stage attribute of the throttle's log records.
const stageName = "throttle"

// takePace takes a token for w's request at now: from the fleet's quota
// when Config.Shared is set and answers, else from the host's own bucket.
// It returns the wait before the request may go and whether it may; a
// local reservation the caller must cancel if it does not send; and, when
// the fleet's gate for the host is closed, the pause left (nothing is
// taken then).
func (t *Throttle) takePace(w *waiter, now time.Time) (wait time.Duration, res *rate.Reservation, ok bool, paused time.Duration) {
	if t.s.shared != nil {
		if r, err := t.reserveShared(w, now); err == nil {
			if r.Paused > 0 {
				return 0, nil, false, r.Paused
			}
			return r.Delay, nil, r.OK, 0
		}
	}
	wait, res, ok = w.h.pace.take(now, t.paceWait(w, now))
	return wait, res, ok, 0
}

// reserveShared asks Config.Shared for a token at the pace this process
// knows for the host. A failure is logged once per outage; the caller
// then uses local state.
func (t *Throttle) reserveShared(w *waiter, now time.Time) (Reservation, error) {
	r, b := w.h.pace.limits()
	res, err := t.s.shared.Reserve(w.ctx, w.h.name, Quota{Rate: r, Burst: b}, max(0, t.paceWait(w, now)))
	t.noteShared(w.ctx, w.h.name, err)
	return res, err
}

// sharePause tells the fleet about a pause a response asked for. It runs
// on the response's way back, after the local gate has closed; the
// caller's cancellation does not stop it, since the pause concerns every
// request to the host, and the store bounds the call.
func (t *Throttle) sharePause(req *http.Request, h *host, d time.Duration) {
	if t.s.shared == nil {
		return
	}
	ctx := context.WithoutCancel(req.Context())
	t.noteShared(ctx, h.name, t.s.shared.Pause(ctx, h.name, d))
}

// noteShared logs the store's outages, once each. An error caused by the
// caller's own context says nothing about the store.
func (t *Throttle) noteShared(ctx context.Context, key string, err error) {
	switch {
	case err == nil:
		t.outage.Up(ctx, t.s.logger, stageName, key)
	case ctx.Err() == nil:
		t.outage.Down(ctx, t.s.logger, stageName, key, err)
	}
}
