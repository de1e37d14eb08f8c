package lab

import (
	"strings"
	"testing"
	"time"
)

func TestNoiseObserve(t *testing.T) {
	p := &NoiseProbe{start: time.Now()}
	for _, late := range []time.Duration{time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		p.observe(late)
	}
	if p.stalls != 2 || p.total != 25*time.Millisecond || p.worst != 20*time.Millisecond {
		t.Errorf("stalls %d, total %v, worst %v; want 2, 25ms, 20ms", p.stalls, p.total, p.worst)
	}
}

func TestNoiseProbeRuns(t *testing.T) {
	p := StartNoiseProbe()
	time.Sleep(20 * time.Millisecond)
	n := p.Stop()
	if n.Run < 20*time.Millisecond || n.Stalls < 0 {
		t.Errorf("noise %+v", n)
	}
}

func TestNoiseString(t *testing.T) {
	quiet := Noise{Run: 10 * time.Second}.String()
	if !strings.Contains(quiet, "quiet") {
		t.Errorf("quiet: %q", quiet)
	}
	busy := Noise{Stalls: 3, Total: 100 * time.Millisecond, Worst: 50 * time.Millisecond, Run: 10 * time.Second}.String()
	if !strings.Contains(busy, "3 stalls ≥ 5ms in 10s, 1.0% of the time, longest 50ms") {
		t.Errorf("busy: %q", busy)
	}
}
