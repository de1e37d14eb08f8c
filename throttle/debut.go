package throttle

import (
	"sync"
	"sync/atomic"
	"time"
)

// Until a new host has answered once, the throttle knows nothing of its
// quota: every caller that starts at once would reach it before the first
// answer could say how much it takes. A new host therefore gets at most
// NewHostRequests requests before its first answer, and the others wait for
// that answer, at most NewHostWait after the host's first request: a host
// whose first answers are slow holds nobody for long, and a slow first
// request does not hold the others back on its own (NewHostRequests go).
// In the quota lab, 16 callers starting together against a 100/s quota in
// bursts of 10 sent 16 requests before the first answer told the quota;
// the burst's 429 closed the gate for a rounded-up second, 3% of a 30 s
// run, where the peers, which never pause, lost nothing.
const (
	// NewHostRequests is how many requests a new host gets before its
	// first answer: fewer than the smallest burst a quota worth pacing
	// usually allows, so that the first answers arrive, with the quota's
	// headers, before the client can overdraw it.
	NewHostRequests = 4
	// NewHostWait is the longest a request waits for a new host's first
	// answer. A host that has not answered by then is slow, and its
	// requests go as if it had.
	NewHostWait = time.Second
)

// debut holds a new host's requests beyond its first NewHostRequests
// until the host has answered one of them, or NewHostWait has passed. Like
// the gate, it is computed from the instants passed in and runs nothing in
// the background. It is safe for concurrent use.
type debut struct {
	// on is true until the debut ends, so that the common case reads one
	// atomic and takes no lock.
	on atomic.Bool

	mu      sync.Mutex    // guards the fields below
	end     time.Time     // the debut ends then at the latest
	sent    int           // requests let through and not yet settled unanswered
	changed chan struct{} // closed at the end, or when a request gives its place back
}

func newDebut(now time.Time) *debut {
	d := &debut{end: now.Add(NewHostWait), changed: make(chan struct{})}
	d.on.Store(true)
	return d
}

// enter lets a request through the debut at now. It returns go when the
// request may go (first, when it holds one of the debut's places and must
// report with settle), or, when it must wait, the debut's end and a
// channel closed at its next change.
func (d *debut) enter(now time.Time) (ok, first bool, end time.Time, changed <-chan struct{}) {
	if !d.on.Load() {
		return true, false, time.Time{}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !d.on.Load():
		return true, false, time.Time{}, nil
	case !now.Before(d.end):
		d.finishLocked()
		return true, false, time.Time{}, nil
	case d.sent < NewHostRequests:
		d.sent++
		return true, true, time.Time{}, nil
	}
	return false, false, d.end, d.changed
}

// settle reports how a request that held one of the debut's places ended:
// answered by the host (a response or a transport failure: the host is no
// longer unknown) ends the debut; otherwise (canceled, refused by an inner
// stage, or never sent) the place goes to a waiter.
func (d *debut) settle(answered bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.on.Load() {
		return
	}
	if answered {
		d.finishLocked()
		return
	}
	d.sent--
	close(d.changed)
	d.changed = make(chan struct{})
}

// finishLocked ends the debut and wakes its waiters. d.mu is held.
func (d *debut) finishLocked() {
	d.on.Store(false)
	close(d.changed)
}

// passDebut waits until w's request may go past its host's debut, and
// reports whether it holds one of the debut's places, which the caller
// must settle. A request whose limit comes before the debut's end goes
// without waiting (the debut holds requests back only while that costs
// them a wait they can afford); a hedge that finds no place is refused.
func (t *Throttle) passDebut(w *waiter) (first bool, err error) {
	for {
		ok, first, end, changed := w.h.debut.enter(time.Now())
		switch {
		case ok:
			return first, nil
		case w.optional:
			return false, t.reject(w, Gate, time.Time{})
		case end.After(w.limit):
			return false, nil
		}
		if err := w.sleep(Gate, end, changed); err != nil {
			return false, err
		}
	}
}
