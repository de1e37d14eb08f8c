package fleetlab

import (
	"sync"
	"time"
)

// Span is a span of a run, from its Start.
type Span struct{ From, To time.Duration }

// stallTick is how often a worker's stall meter checks that its process
// runs, and stallMin how late a check must come for the gap to count as
// a stall: as late as the throttle lets a request take its turn in the
// fleet's schedule (throttle's minTurnSlack), beyond which the turns the
// process held in the gap are lost.
const (
	stallTick = 5 * time.Millisecond
	stallMin  = 20 * time.Millisecond
)

// stallMeter records the spans during which its process did not run: a
// ticker's ticks that came more than stallMin late. On a loaded machine
// the workers are descheduled now and then, and a worker that does not
// run misses its turns in the fleet's schedule: the meter says how much
// of the run the machine took from each.
type stallMeter struct {
	start time.Time
	stop  chan struct{}
	done  chan struct{}

	mu    sync.Mutex // guards spans
	spans []Span
}

func startStallMeter(start time.Time) *stallMeter {
	m := &stallMeter{start: start, stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

func (m *stallMeter) run() {
	defer close(m.done)
	t := time.NewTicker(stallTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		if gap := now.Sub(last); gap > stallTick+stallMin {
			m.mu.Lock()
			m.spans = append(m.spans, Span{From: last.Add(stallTick).Sub(m.start), To: now.Sub(m.start)})
			m.mu.Unlock()
		}
		last = now
	}
}

// end stops the meter and returns the stalls it saw.
func (m *stallMeter) end() []Span {
	close(m.stop)
	<-m.done
	return m.spans
}

// stalled returns how much of phase p the spans cover.
func stalled(spans []Span, p Phase) time.Duration {
	var d time.Duration
	for _, s := range spans {
		if from, to := max(s.From, p.From), min(s.To, p.To); to > from {
			d += to - from
		}
	}
	return d
}
