package breaker

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/tailguard/tailguard/internal/attempt"
)

// waitroom holds the requests of one key that Config.MaxWait lets wait
// instead of being refused: while the key is open, until its open period
// ends; while it is half-open with every probe slot taken, for the
// probe's outcome. It is safe for concurrent use.
//
// When the probe closes the key, the requests that waited are the herd an
// open breaker gathers: sending them all at once would hit a host that has
// just recovered with every request of the open period in the same
// instant. So they are released in waves, the way TCP's slow start grows
// its window: the first wave is HalfOpenProbes requests, and each next
// wave starts once the previous one has settled, twice as large if the
// previous one had a success. The ramp ends when a wave would hold every
// request still queued; a state change ends it too (a failure re-opens the
// key, and the waiters then wait for the next probe or give up). Requests
// that did not wait are never held back: the ramp only spreads the herd.
//
// Waiters block on changed, which is closed (waking them all) on every
// state change of the key and at the end of each wave: a few broadcasts
// per open period, never one per request.
type waitroom struct {
	mu       sync.Mutex    // guards everything below
	changed  chan struct{} // closed at the next state change or wave; nil until a waiter needs it
	queued   int           // waiting requests not let into the current ramp's waves
	wave     int           // size of the current wave; 0: no ramp, waiters go as they wake
	entered  int           // waiters let into the current wave
	inflight int           // waiters of the current wave not yet settled
	success  bool          // the current wave had a success
}

// signal returns the channel closed at the next change.
func (r *waitroom) signal() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.changed
}

// broadcastLocked wakes every waiter; the caller holds r.mu.
func (r *waitroom) broadcastLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// transition is told of every state change of the key. It runs under
// gobreaker's mutex, and only takes r.mu, which is never held while
// calling gobreaker. Closing starts a ramp if more requests are queued
// than the first wave holds.
func (r *waitroom) transition(to State, firstWave int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wave, r.entered, r.inflight, r.success = 0, 0, 0, false
	if to == Closed && r.queued > firstWave {
		r.wave = firstWave
	}
	r.broadcastLocked()
}

// freed wakes the waiters because a probe slot was freed without a state
// change: a probe settled excluded (its caller gave up, say), and a waiter
// may take the slot now rather than at the end of its wait.
func (r *waitroom) freed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broadcastLocked()
}

// queue and unqueue count a request in and out of the queue.
func (r *waitroom) queue()   { r.mu.Lock(); r.queued++; r.mu.Unlock() }
func (r *waitroom) unqueue() { r.mu.Lock(); r.queued--; r.mu.Unlock() }

// enter reports whether a queued waiter may try its key now, and whether
// it was let in as part of a wave, which takes it out of the queue. force
// lets it in regardless of the ramp: its wait is over, and the key is
// closed for everyone else.
func (r *waitroom) enter(force bool) (inWave, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.wave == 0:
		return false, true
	case r.entered < r.wave:
		r.entered++
		r.inflight++
		r.queued--
		return true, true
	}
	return false, force
}

// settle records the verdict of a waiter let in by a wave, and starts the
// next wave when this one is over.
func (r *waitroom) settle(v verdict) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wave == 0 {
		return // a state change ended the ramp meanwhile
	}
	r.inflight--
	r.success = r.success || v == success
	if r.inflight > 0 || r.entered < r.wave {
		return
	}
	if r.success {
		r.wave *= 2
	}
	r.entered, r.success = 0, false
	if r.wave >= r.queued {
		r.wave = 0
	}
	r.broadcastLocked()
}

// await lets req, refused by its key, wait up to Config.MaxWait (and never
// past its context's deadline) to be admitted, then sends it. It returns
// the refusal at once when waiting cannot help: the key is open until
// after the wait would end. A request still refused when its wait ends
// gets the refusal then. A caller that gives up gets its context's error,
// and its request body is closed: nothing was sent.
func (t *transport) await(e *entry, req *http.Request, refused *OpenError) (*http.Response, *OpenError, error) {
	ctx := req.Context()
	deadline := time.Now().Add(t.b.s.maxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if refused.State == Open && refused.Until.After(deadline) {
		return nil, refused, nil // the open period outlasts the wait: refuse up front
	}
	// The request waits: an enclosing hedge race must send no copy of it
	// meanwhile (the copy would wait in this room beside it, or meet the
	// same refusal) and must not take the wait for the host's latency.
	// It is told of a pause, as a throttle's closed gate tells it: until
	// the open period ends, or, for a probe's answer, until the wait's end.
	pause := deadline
	if refused.State == Open {
		pause = refused.Until
	}
	attempt.Pause(ctx, pause)
	r := &e.room
	r.queue()
	queued := true
	defer func() {
		if queued {
			r.unqueue()
		}
	}()
	for {
		// The channel is taken before the key is asked, so a change
		// between the refusal and the wait below is never missed.
		changed := r.signal()
		over := !time.Now().Before(deadline)
		if inWave, ok := r.enter(over); ok {
			queued = queued && !inWave
			resp, again, err := t.attemptInWave(e, req, inWave)
			if again == nil {
				return resp, nil, err
			}
			if over || (again.State == Open && again.Until.After(deadline)) {
				return nil, again, nil
			}
			if inWave {
				r.queue() // refused after all: the key changed state
				queued = true
			}
			refused = again
		}
		wake := deadline
		if refused.State == Open && refused.Until.Before(wake) {
			wake = refused.Until // the first instant a probe is admitted
		}
		if !sleep(ctx, wake, changed) {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, nil, ctx.Err()
		}
	}
}

// sleep waits until wake or until changed is closed, and reports false if
// ctx ended first. The request waits unsent: an enclosing attempt timeout
// must not count the wait as the upstream's slowness (attempt.Waiter).
func sleep(ctx context.Context, wake time.Time, changed <-chan struct{}) bool {
	attempt.WaitBegin(ctx)
	defer attempt.WaitEnd(ctx)
	timer := time.NewTimer(time.Until(wake))
	defer timer.Stop()
	select {
	case <-changed:
	case <-timer.C:
	case <-ctx.Done():
		return false
	}
	return true
}

// attemptInWave is attempt for a waiter let in by the room, settling its
// place in the wave if it was let in as part of one, even if the attempt
// panics (as excluded: it says nothing of the host), so that the next wave
// starts rather than every other waiter stalling until its wait ends.
func (t *transport) attemptInWave(e *entry, req *http.Request, inWave bool) (resp *http.Response, refused *OpenError, err error) {
	v := excluded
	if inWave {
		defer func() { e.room.settle(v) }()
	}
	resp, v, refused, err = t.attempt(e, req)
	return resp, refused, err
}
