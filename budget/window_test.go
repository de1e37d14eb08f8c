package budget

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestWindowSteps drives a 1 s window (21 buckets of 50 ms) through fixed
// instants.
func TestWindowSteps(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	type step struct {
		at             time.Duration // offset from t0
		firsts, extras int           // recorded at this instant, after advancing
		want           tally         // sum after recording
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"accumulates within one bucket", []step{
			{0, 3, 1, tally{3, 1}},
			{49 * ms, 2, 0, tally{5, 1}},
		}},
		{"a bucket counts for between 1 and 1.05 windows", []step{
			{0, 1, 0, tally{1, 0}},
			{50 * ms, 2, 0, tally{3, 0}},
			{100 * ms, 4, 1, tally{7, 1}},
			{1049 * ms, 0, 0, tally{7, 1}},
			{1050 * ms, 0, 0, tally{6, 1}},
			{1100 * ms, 0, 0, tally{4, 1}},
			{1150 * ms, 0, 0, tally{0, 0}},
		}},
		{"skipping buckets clears each", []step{
			{0, 5, 5, tally{5, 5}},
			{300 * ms, 1, 0, tally{6, 5}},
			{1075 * ms, 0, 0, tally{1, 0}},
			{1350 * ms, 0, 0, tally{0, 0}},
		}},
		{"a gap as long as the ring clears", []step{
			{0, 5, 2, tally{5, 2}},
			{900 * ms, 1, 1, tally{6, 3}},
			{1950 * ms, 0, 0, tally{0, 0}},
		}},
		{"huge gap clears", []step{
			{0, 5, 2, tally{5, 2}},
			{1000 * time.Hour, 1, 0, tally{1, 0}},
			{1000*time.Hour + 1049*ms, 0, 0, tally{1, 0}},
			{1000*time.Hour + 1050*ms, 0, 0, tally{0, 0}},
		}},
		{"backwards keeps counts and re-anchors", []step{
			{time.Hour, 5, 2, tally{5, 2}},
			{0, 1, 0, tally{6, 2}},
			{1049 * ms, 0, 0, tally{6, 2}},
			{1050 * ms, 0, 0, tally{0, 0}},
		}},
		{"maximal duration does not overflow", []step{
			{0, 1, 1, tally{1, 1}},
			{time.Duration(1<<63 - 1), 0, 0, tally{0, 0}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			w.init(time.Second)
			for i, s := range tt.steps {
				w.advance(t0.Add(s.at))
				for range s.firsts {
					w.addFirst()
				}
				for range s.extras {
					w.addExtra()
				}
				assert.Equal(t, s.want, w.sum(), "step %d at %v", i, s.at)
			}
		})
	}
}

// allows checks every span ending now: the rule must hold for the head
// bucket alone, for the last two, ..., for the whole ring.
func TestWindowAllowsEverySuffix(t *testing.T) {
	t0 := time.Unix(0, 0)
	ms := time.Millisecond
	tests := []struct {
		name   string
		record []struct {
			at             time.Duration
			firsts, extras int
		}
		now  time.Duration
		want bool
	}{
		{"old firsts fund old extras only", []struct {
			at             time.Duration
			firsts, extras int
		}{{0, 1000, 0}, {900 * ms, 0, 10}}, 950 * ms, false},
		{"the same extras spread with the firsts", []struct {
			at             time.Duration
			firsts, extras int
		}{{0, 500, 0}, {900 * ms, 500, 10}}, 950 * ms, true},
		{"the whole ring binds", []struct {
			at             time.Duration
			firsts, extras int
		}{{0, 100, 25}, {500 * ms, 0, 5}}, 600 * ms, false},
		{"one bucket later the oldest is gone", []struct {
			at             time.Duration
			firsts, extras int
		}{{0, 100, 25}, {500 * ms, 0, 4}}, 1050 * ms, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			w.init(time.Second)
			for _, r := range tt.record {
				w.advance(t0.Add(r.at))
				for range r.firsts {
					w.addFirst()
				}
				for range r.extras {
					w.addExtra()
				}
			}
			w.advance(t0.Add(tt.now))
			assert.Equal(t, tt.want, w.allows(0.2, 10))
		})
	}
}

func TestWindowTinyDurationHasPositiveWidth(t *testing.T) {
	var w window
	w.init(3) // 3ns cannot be split into 20 buckets
	assert.Equal(t, time.Duration(1), w.width)
	t0 := time.Unix(0, 0)
	w.advance(t0)
	w.addFirst()
	w.advance(t0.Add(20))
	assert.Equal(t, tally{1, 0}, w.sum())
	w.advance(t0.Add(21))
	assert.Equal(t, tally{0, 0}, w.sum())
}

func TestWindowZeroInstantIsValid(t *testing.T) {
	var w window
	w.init(time.Second)
	w.advance(time.Time{})
	w.addFirst()
	w.advance(time.Time{}.Add(500 * time.Millisecond))
	assert.Equal(t, tally{1, 0}, w.sum(), "the zero time.Time is an ordinary instant")
}

// A window near the largest Duration still rotates bucket by bucket: the
// ring's span, 21 buckets of Window/20, wrapped around to a negative
// Duration, and any step of a bucket or more emptied the whole ring.
func TestWindowHugeDuration(t *testing.T) {
	var w window
	w.init(math.MaxInt64)
	t0 := time.Unix(0, 0)
	w.advance(t0)
	w.addFirst()
	w.advance(t0.Add(w.width))
	assert.Equal(t, tally{1, 0}, w.sum(), "one bucket later, still counted")
}
