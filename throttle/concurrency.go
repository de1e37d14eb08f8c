package throttle

import (
	"context"
	"sync"
	"time"
)

// slots caps the requests in flight to one host. Waiters queue in arrival
// order and a freed slot is handed to the first of them directly, so a
// newcomer cannot overtake a request that has waited. A nil *slots is no
// cap. It is safe for concurrent use.
//
// golang.org/x/sync/semaphore does the same but is not among tailguard's
// dependencies; the part needed here is this small.
type slots struct {
	max int

	mu      sync.Mutex // guards used and waiters
	used    int
	waiters []chan struct{} // FIFO; a waiter's channel is closed when it is handed a slot
}

func newSlots(n int) *slots {
	if n == 0 {
		return nil
	}
	return &slots{max: n}
}

// tryAcquire takes a slot if one is free and nobody is queued.
func (s *slots) tryAcquire() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used < s.max && len(s.waiters) == 0 {
		s.used++
		return true
	}
	return false
}

// acquire takes a slot, waiting until limit at most (the zero Time: until
// ctx ends). It returns nil with a slot, ctx.Err() if ctx ended first, or
// errSlotTimeout at limit.
func (s *slots) acquire(ctx context.Context, limit time.Time) error {
	if s.tryAcquire() {
		return nil
	}
	s.mu.Lock()
	if s.used < s.max && len(s.waiters) == 0 {
		s.used++
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()

	var timeout <-chan time.Time
	if !limit.IsZero() {
		t := time.NewTimer(time.Until(limit))
		defer t.Stop()
		timeout = t.C
	}
	var err error
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timeout:
		err = errSlotTimeout
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.waiters {
		if w == ch {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			return err
		}
	}
	// Handed a slot while giving up: pass it on.
	s.releaseLocked()
	return err
}

// release frees a slot, handing it to the first waiter if there is one.
func (s *slots) release() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.releaseLocked()
	s.mu.Unlock()
}

func (s *slots) releaseLocked() {
	if len(s.waiters) > 0 {
		close(s.waiters[0])
		s.waiters[0] = nil
		s.waiters = s.waiters[1:]
		return // the slot passes to the waiter: used is unchanged
	}
	s.used--
}

// inUse returns the slots taken and the requests queued.
func (s *slots) inUse() (used, queued int) {
	if s == nil {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used, len(s.waiters)
}

// errSlotTimeout is acquire's internal signal that limit passed.
var errSlotTimeout = errSlotTimeoutT{}

type errSlotTimeoutT struct{}

func (errSlotTimeoutT) Error() string { return "throttle: no concurrency slot before the wait limit" }
