package quota

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

// Defaults of a zero [Load]: the quota lab's workload.
const (
	DefaultCallers  = 16
	DefaultOffered  = 300.0 // requests per second: three times the default quota
	DefaultDuration = 30 * time.Second
	DefaultTimeout  = 30 * time.Second
)

// Load is what the lab offers each arm: Callers independent callers, each
// an open-loop Poisson source, together Offered requests per second for
// Duration. Every request runs on its own goroutine, so a request that
// waits (in a backoff, at a closed gate) never holds back the next: the
// offered load does not shrink when the client slows down, as it would in
// a closed loop ("coordinated omission"). A zero field takes its default.
type Load struct {
	Callers  int
	Offered  float64
	Duration time.Duration
	// Timeout bounds each request, retries and waits included.
	Timeout time.Duration
	// Seed seeds the callers' schedules: every arm faces the same one.
	Seed uint64
}

func (l Load) normalize() (Load, error) {
	if l.Callers == 0 {
		l.Callers = DefaultCallers
	}
	if l.Offered == 0 {
		l.Offered = DefaultOffered
	}
	if l.Duration == 0 {
		l.Duration = DefaultDuration
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	switch {
	case l.Callers < 0:
		return l, fmt.Errorf("quota: Load.Callers must be positive, got %d", l.Callers)
	case !(l.Offered > 0):
		return l, fmt.Errorf("quota: Load.Offered must be positive, got %v", l.Offered)
	case l.Duration < 0 || l.Timeout < 0:
		return l, fmt.Errorf("quota: Load.Duration and Load.Timeout must be positive")
	}
	return l, nil
}

// Schedule returns the send offsets of every request of the run, merged
// from the callers' Poisson streams, ascending: the same for every arm.
func (l Load) Schedule() []time.Duration {
	l, err := l.normalize()
	if err != nil {
		panic(err)
	}
	per := l.Offered / float64(l.Callers)
	// Enough draws that a stream practically never ends before Duration
	// (mean + 10σ + a margin); the tail past Duration is cut.
	mean := per * l.Duration.Seconds()
	n := int(mean + 10*math.Sqrt(mean) + 10)
	var all []time.Duration
	for c := range l.Callers {
		for _, off := range lab.Schedule(n, per, l.Seed*1_000_003+uint64(c)) {
			if off >= l.Duration {
				break
			}
			all = append(all, off)
		}
	}
	slices.Sort(all)
	return all
}
