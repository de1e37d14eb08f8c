package lab

import (
	"fmt"
	"sync"
	"time"
)

// StallThreshold is how late a 1 ms sleep must wake for [NoiseProbe] to
// count a stall.
const StallThreshold = 5 * time.Millisecond

// NoiseProbe measures how often the process could not run: a goroutine
// sleeps 1 ms at a time and counts the wake-ups later than
// [StallThreshold]. On a quiet machine it counts none; on a busy or
// oversubscribed one (CPU steal by the hypervisor, other processes) every
// stall delays whatever requests were in flight, and the lab's tail
// percentiles measure the machine rather than the client.
//
// Safe for concurrent use.
type NoiseProbe struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	start  time.Time
	stalls int
	total  time.Duration
	worst  time.Duration
}

// Noise is what a [NoiseProbe] saw.
type Noise struct {
	Stalls int           // wake-ups later than StallThreshold
	Total  time.Duration // time lost to them
	Worst  time.Duration // the longest
	Run    time.Duration // how long the probe ran
}

// String describes the noise in one line.
func (n Noise) String() string {
	if n.Stalls == 0 {
		return fmt.Sprintf("no stall ≥ %v in %.0fs: the machine was quiet", StallThreshold, n.Run.Seconds())
	}
	return fmt.Sprintf("%d stalls ≥ %v in %.0fs, %.1f%% of the time, longest %v: tails inflated by the machine",
		n.Stalls, StallThreshold, n.Run.Seconds(), 100*n.Total.Seconds()/n.Run.Seconds(), n.Worst.Round(time.Millisecond))
}

// StartNoiseProbe starts a probe; Stop it to read the result.
func StartNoiseProbe() *NoiseProbe {
	p := &NoiseProbe{stop: make(chan struct{}), start: time.Now()}
	p.wg.Go(p.loop)
	return p
}

func (p *NoiseProbe) loop() {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			// A ticker drops ticks it could not deliver, so the gap since
			// the last tick is the time this goroutine could not run.
			p.observe(now.Sub(last) - time.Millisecond)
			last = now
		}
	}
}

func (p *NoiseProbe) observe(late time.Duration) {
	if late < StallThreshold {
		return
	}
	p.mu.Lock()
	p.stalls++
	p.total += late
	p.worst = max(p.worst, late)
	p.mu.Unlock()
}

// Stop ends the probe and returns what it saw.
func (p *NoiseProbe) Stop() Noise {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return Noise{Stalls: p.stalls, Total: p.total, Worst: p.worst, Run: time.Since(p.start)}
}
