package lab

import (
	"fmt"
	"time"
)

// Stall is a replica's pause schedule: the whole server stops for For,
// every Every, the first pause beginning At after the server's epoch (its
// start, or its last Reset). It models a stop-the-world GC pause or a
// noisy neighbour: a request in flight when a pause begins is frozen with
// the rest, and one arriving during a pause waits for its end, whichever
// connection it came on. The zero Stall never pauses.
type Stall struct {
	Every, For, At time.Duration
}

// String describes the schedule: "200ms every 2s".
func (s Stall) String() string {
	if s.Every <= 0 || s.For <= 0 {
		return "never stalls"
	}
	return fmt.Sprintf("stalls %v every %v", s.For, s.Every)
}

// Finish returns when a request that arrives start after the epoch and
// needs work of unpaused time is done, as an offset from the epoch.
func (s Stall) Finish(start, work time.Duration) time.Duration {
	if s.Every <= 0 || s.For <= 0 {
		return start + work
	}
	t := start
	for {
		// The pause at or after t's period start: k·Every + At.
		k := (t - s.At) / s.Every
		if t < s.At {
			k = -1 // before the first pause: the "previous" one is not real
		}
		pause := s.At + k*s.Every
		if k >= 0 && t < pause+s.For {
			t = pause + s.For // inside a pause: wait for its end
			continue
		}
		next := s.At + (k+1)*s.Every
		if t+work <= next {
			return t + work
		}
		work -= next - t
		t = next + s.For
	}
}
