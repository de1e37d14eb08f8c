package throttle

import (
	"sync"
	"sync/atomic"
	"time"
)

// gate is one host's pushback state: open, closed until an instant, or
// probing. A response asking for a pause closes it until then, for every
// request to the host. When the pause is over, the next request through
// is the probe and every other waits for its answer: one request learns
// whether the host still pushes back, instead of all of them (a server
// answering "429, Retry-After: 1" to everything then sees one request per
// second, whatever the number of callers). A probe answered without
// pushback opens the gate; one answered with pushback closes it again; one
// that was never answered by the host (cancelled, refused by an inner
// stage) hands the probe to the next request.
//
// Everything is computed from the instants passed in; nothing runs in the
// background. Waiters sleep on their own goroutines with a timer and
// [gate.changed], which is closed at every state change.
//
// A gate is safe for concurrent use.
type gate struct {
	// shut is false while the gate is open, so that the common case reads
	// one atomic and takes no lock.
	shut atomic.Bool
	// releasing is true from an opening that released waiters until the
	// end of its release window (cleared lazily), during which requests
	// that did not wait go after the window, behind the released ones.
	releasing atomic.Bool
	// window is Config.ReleaseWindow; zero: nobody is held behind a
	// release.
	window time.Duration

	mu      sync.Mutex // guards the fields below
	until   time.Time  // closed until then; zero when open
	probing bool       // the probe is in flight
	opened  time.Time  // when the gate last opened
	// releaseEnd is the end of the last opening's release window, while
	// releasing is true.
	releaseEnd time.Time
	changed    chan struct{} // closed at the next state change; nil until a waiter asks
}

// gateState is what [gate.enter] tells a request.
type gateState uint8

const (
	gateOpen    gateState = iota // go
	gateProbe                    // go, as the probe: report with settle
	gateClosed                   // wait until view.until
	gateProbing                  // a probe is in flight: wait for a change
)

// gateView is the gate as one request found it.
type gateView struct {
	state  gateState
	until  time.Time // gateClosed: when the pause ends
	opened time.Time // gateOpen: when the gate last opened (zero if never closed)
	// releasing is, for gateOpen, the end of the release window the
	// gate is in (zero if none): a request that did not wait goes after
	// it.
	releasing time.Time
	changed   <-chan struct{} // gateClosed, gateProbing, releasing: closed at the next change
}

// enter returns the gate's state at now for a request. A request that may
// not probe (a hedge never waits, so it never holds others up) sees a pause
// that is over but unprobed as closed until now. waited asks for the time
// the gate last opened, which the fast path does not read.
func (g *gate) enter(now time.Time, mayProbe, waited bool) gateView {
	if !g.shut.Load() && !waited && !g.releasing.Load() {
		return gateView{state: gateOpen}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.until.IsZero():
		v := gateView{state: gateOpen, opened: g.opened}
		if g.releasing.Load() {
			if now.Before(g.releaseEnd) {
				v.releasing, v.changed = g.releaseEnd, g.watch()
			} else {
				g.releasing.Store(false)
			}
		}
		return v
	case now.Before(g.until):
		return gateView{state: gateClosed, until: g.until, changed: g.watch()}
	case g.probing:
		return gateView{state: gateProbing, changed: g.watch()}
	case !mayProbe:
		return gateView{state: gateClosed, until: now, changed: g.watch()}
	default:
		g.probing = true
		// Wake the requests waiting for the pause to end: they go on
		// to wait for the probe's answer, watching anew, so that the
		// opening knows whether anyone is left to release.
		g.notify()
		return gateView{state: gateProbe}
	}
}

// pause closes the gate until until, or keeps it closed longer if it
// already is. It reports whether the gate's reopening moved.
func (g *gate) pause(until time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !until.After(g.until) {
		return false
	}
	g.until = until
	g.shut.Store(true)
	g.notify()
	return true
}

// probeResult is how a probe ended.
type probeResult uint8

const (
	probeOpen      probeResult = iota // the host answered without pushback
	probePushback                     // the host pushed back: pause was called first
	probeAbandoned                    // the host never answered: the next request probes
)

// settle ends the probe. The gate opens only if the host answered without
// pushback and no other response has moved the pause past now meanwhile.
func (g *gate) settle(now time.Time, r probeResult) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.probing = false
	if r == probeOpen && !g.until.IsZero() && !now.Before(g.until) {
		g.until = time.Time{}
		g.opened = now
		if g.changed != nil && g.window > 0 {
			// Requests are waiting for the probe's answer, to be released:
			// newcomers go after them.
			g.releaseEnd = now.Add(g.window)
			g.releasing.Store(true)
		}
		g.shut.Store(false)
	}
	g.notify()
}

// watchChange returns a channel closed at the gate's next change, for a
// request that waits for something else (a pace turn) and must notice a
// pause.
func (g *gate) watchChange() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.watch()
}

// closedAt reports whether the gate is closed (or probing) at now, for
// eviction: a host whose gate holds a pause must not be forgotten.
func (g *gate) closedAt(now time.Time) bool {
	if !g.shut.Load() {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.probing || now.Before(g.until)
}

// pausedUntil returns the end of the current pause, or the zero Time when
// the gate is open.
func (g *gate) pausedUntil() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until
}

// watch returns the channel closed at the next change. g.mu is held.
func (g *gate) watch() <-chan struct{} {
	if g.changed == nil {
		g.changed = make(chan struct{})
	}
	return g.changed
}

// notify wakes every waiter. g.mu is held.
func (g *gate) notify() {
	if g.changed != nil {
		close(g.changed)
		g.changed = nil
	}
}
