package throttle

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestAIMDSteps drives the AIMD estimate at fixed instants: each step is a
// throttled response (with the send rate the meter saw) or a success, at an
// offset from t0, for a request sent at another offset, and the rate after.
func TestAIMDSteps(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ms := time.Millisecond
	type step struct {
		at, sent time.Duration
		throttle bool
		sendRate float64
		admitted float64       // successes in the last second, for a throttle; 0: as many as you like
		bare     bool          // the throttled response asked for no pause
		pause    time.Duration // if set, the step is a pause from at until then
		limited  bool
		want     float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first 429 cuts the send rate by AIMDFirstDecrease", []step{
			{at: 50 * ms, sent: 40 * ms, throttle: true, sendRate: 160, want: 128},
		}},
		{"a 429 to the very first request starts from 1/s", []step{
			{at: 0, sent: 0, throttle: true, want: 0.8},
		}},
		{"429s paced before the cut are ignored", []step{
			{at: 50 * ms, sent: 40 * ms, throttle: true, sendRate: 160, want: 128},
			{at: 60 * ms, sent: 45 * ms, throttle: true, want: 128},
		}},
		{"a 429 before any success at the new rate is ignored", []step{
			{at: 50 * ms, sent: 40 * ms, throttle: true, sendRate: 160, want: 128},
			{at: 70 * ms, sent: 60 * ms, throttle: true, want: 128},
		}},
		{"after successes, a 429 cuts by AIMDDecrease", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 10 * ms, sent: 5 * ms, want: 160},
			{at: 20 * ms, sent: 15 * ms, throttle: true, want: 144},
		}},
		{"a bare 429 before a second's worth of successes: the cut was not enough, cut by AIMDDecrease", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, bare: true, want: 160},
			{at: 10 * ms, sent: 5 * ms, want: 160},
			{at: 20 * ms, sent: 15 * ms, throttle: true, bare: true, want: 144},
		}},
		{"more bare 429s than successes since the cut: halve", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, bare: true, want: 160},
			{at: 10 * ms, sent: 5 * ms, throttle: true, bare: true, want: 160},
			{at: 20 * ms, sent: 15 * ms, throttle: true, bare: true, want: 160},
			{at: 30 * ms, sent: 25 * ms, want: 160},
			{at: 40 * ms, sent: 35 * ms, throttle: true, bare: true, want: 80},
		}},
		{"more 429s than successes since the cut: halve", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 10 * ms, sent: 5 * ms, throttle: true, want: 160}, // ignored: nothing succeeded yet
			{at: 20 * ms, sent: 15 * ms, throttle: true, want: 160},
			{at: 30 * ms, sent: 25 * ms, want: 160},
			{at: 40 * ms, sent: 35 * ms, throttle: true, want: 80}, // 1 success, 3 throttles
		}},
		{"pauses took most of the time since the cut: down to what got through, at most halved", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 10 * ms, sent: 5 * ms, want: 160},
			{at: 20 * ms, pause: 2020 * ms, want: 160},
			{at: 2030 * ms, sent: 2025 * ms, want: 160},
			{at: 2100 * ms, sent: 2090 * ms, throttle: true, admitted: 100, want: 100},
		}},
		{"... never more than halved", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 10 * ms, sent: 5 * ms, want: 160},
			{at: 20 * ms, pause: 2020 * ms, want: 160},
			{at: 2030 * ms, sent: 2025 * ms, want: 160},
			{at: 2100 * ms, sent: 2090 * ms, throttle: true, admitted: 20, want: 80},
		}},
		{"a short pause: a cut by AIMDDecrease", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 10 * ms, sent: 5 * ms, want: 160},
			{at: 20 * ms, pause: 520 * ms, want: 160},
			{at: 2030 * ms, sent: 2025 * ms, want: 160},
			{at: 2100 * ms, sent: 2090 * ms, throttle: true, admitted: 20, want: 144},
		}},
		{"growth needs demand: unlimited successes do not grow the rate", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: time.Second, sent: time.Second, want: 160},
		}},
		{"slow growth near the ceiling (0.5% of the ceiling per second; the first cut's rate is the first ceiling)", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: time.Second, sent: time.Second, limited: true, want: 160.8},
		}},
		{"no growth for the time the host was paused", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 0, pause: 5 * time.Second, want: 160},
			{at: 5 * time.Second, sent: 5 * time.Second, limited: true, want: 160},
			{at: 6 * time.Second, sent: 6 * time.Second, limited: true, want: 160.8},
		}},
		{"fast growth far below the ceiling (5% of the rate per second)", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: 10 * ms, sent: 5 * ms, throttle: true, want: 160},
			{at: 20 * ms, sent: 15 * ms, throttle: true, want: 160},
			{at: 30 * ms, sent: 25 * ms, want: 160},
			{at: 40 * ms, sent: 35 * ms, throttle: true, want: 80}, // halved: the ceiling stays at 160
			{at: 1040 * ms, sent: time.Second, limited: true, want: 84},
		}},
		{"growth counts at most a second per success", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 160},
			{at: time.Hour, sent: time.Hour, limited: true, want: 160.8},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a aimd
			for i, s := range tt.steps {
				switch {
				case s.pause > 0:
					a.paused(at(s.at), at(s.pause))
				case s.throttle:
					admitted := s.admitted
					if admitted == 0 {
						admitted = math.Inf(1)
					}
					a.throttled(at(s.at), at(s.sent), s.sendRate, admitted, s.bare)
				default:
					a.succeeded(at(s.at), at(s.sent), s.limited)
				}
				assert.InDelta(t, s.want, a.rate, 1e-9, "step %d", i)
			}
		})
	}
}

// TestAIMDBareProbe: a bare 429 after a second's worth of successes at
// the current rate is a probe past a limit the rate had met, and cuts by
// AIMDBareDecrease only; one success fewer, and it cuts by AIMDDecrease.
func TestAIMDBareProbe(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		successes int
		want      float64
	}{
		{80, 80 * AIMDBareDecrease},
		{79, 80 * AIMDDecrease},
	} {
		var a aimd
		a.throttled(t0, t0, 100, math.Inf(1), true) // the first cut: 80/s
		now := t0
		for range tt.successes {
			now = now.Add(time.Millisecond) // too soon to grow much: 0.5%/s
			a.succeeded(now, now, false)
		}
		a.throttled(now, now, 0, math.Inf(1), true)
		assert.InDelta(t, tt.want, a.rate, 1e-9, "after %d successes", tt.successes)
	}
}

func TestAIMDFloorAndForget(t *testing.T) {
	t0 := time.Now()
	var a aimd
	a.throttled(t0, t0, 0.01, 0, false)
	assert.Equal(t, AIMDMinRate, a.rate, "never below the floor")

	var b aimd
	b.throttled(t0, t0, 20, 0, true) // 16/s, the first ceiling
	now := t0
	for b.rate > 0 && now.Sub(t0) < time.Hour {
		now = now.Add(time.Second)
		b.succeeded(now, now, true)
	}
	assert.Zero(t, b.rate, "past AIMDForget × the ceiling without a 429, AIMD lets go of the host")
	assert.Less(t, now.Sub(t0), 2*time.Minute)
}
