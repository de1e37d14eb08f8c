package throttle

import (
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
		limited  bool
		want     float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first 429 cuts the send rate", []step{
			{at: 50 * ms, sent: 40 * ms, throttle: true, sendRate: 160, want: 144},
		}},
		{"a 429 to the very first request starts from 1/s", []step{
			{at: 0, sent: 0, throttle: true, want: 0.9},
		}},
		{"429s paced before the cut are ignored", []step{
			{at: 50 * ms, sent: 40 * ms, throttle: true, sendRate: 160, want: 144},
			{at: 60 * ms, sent: 45 * ms, throttle: true, want: 144},
		}},
		{"a 429 before any success at the new rate is ignored", []step{
			{at: 50 * ms, sent: 40 * ms, throttle: true, sendRate: 160, want: 144},
			{at: 70 * ms, sent: 60 * ms, throttle: true, want: 144},
		}},
		{"after successes, a 429 cuts by AIMDDecrease", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 180},
			{at: 10 * ms, sent: 5 * ms, want: 180},
			{at: 20 * ms, sent: 15 * ms, throttle: true, want: 162},
		}},
		{"more 429s than successes since the cut: halve", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 180},
			{at: 10 * ms, sent: 5 * ms, throttle: true, want: 180}, // ignored: nothing succeeded yet
			{at: 20 * ms, sent: 15 * ms, throttle: true, want: 180},
			{at: 30 * ms, sent: 25 * ms, want: 180},
			{at: 40 * ms, sent: 35 * ms, throttle: true, want: 90}, // 1 success, 3 throttles
		}},
		{"growth needs demand: unlimited successes do not grow the rate", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 180},
			{at: time.Second, sent: time.Second, want: 180},
		}},
		{"slow growth near the ceiling (0.5% of the ceiling per second)", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 180},
			{at: time.Second, sent: time.Second, limited: true, want: 181},
		}},
		{"fast growth far below the ceiling (5% of the rate per second)", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 180},
			{at: 10 * ms, sent: 5 * ms, throttle: true, want: 180},
			{at: 20 * ms, sent: 15 * ms, throttle: true, want: 180},
			{at: 30 * ms, sent: 25 * ms, want: 180},
			{at: 40 * ms, sent: 35 * ms, throttle: true, want: 90}, // halved: the ceiling stays at 180
			{at: 1040 * ms, sent: time.Second, limited: true, want: 94.5},
		}},
		{"growth counts at most a second per success", []step{
			{at: 0, sent: 0, throttle: true, sendRate: 200, want: 180},
			{at: time.Hour, sent: time.Hour, limited: true, want: 181},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a aimd
			for i, s := range tt.steps {
				if s.throttle {
					a.throttled(at(s.at), at(s.sent), s.sendRate)
				} else {
					a.succeeded(at(s.at), at(s.sent), s.limited)
				}
				assert.InDelta(t, s.want, a.rate, 1e-9, "step %d", i)
			}
		})
	}
}

func TestAIMDFloorAndForget(t *testing.T) {
	t0 := time.Now()
	var a aimd
	a.throttled(t0, t0, 0.01)
	assert.Equal(t, AIMDMinRate, a.rate, "never below the floor")

	var b aimd
	b.throttled(t0, t0, 20) // 10/s, ceiling 20
	now := t0
	for b.rate > 0 && now.Sub(t0) < time.Hour {
		now = now.Add(time.Second)
		b.succeeded(now, now, true)
	}
	assert.Zero(t, b.rate, "past AIMDForget × the ceiling without a 429, AIMD lets go of the host")
	assert.Less(t, now.Sub(t0), 2*time.Minute)
}
