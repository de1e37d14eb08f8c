package budget

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestWindowSteps drives a 10 s window (1 s buckets) through fixed instants.
func TestWindowSteps(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
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
			{999 * time.Millisecond, 2, 0, tally{5, 1}},
		}},
		{"buckets expire one by one", []step{
			{0, 1, 0, tally{1, 0}},
			{time.Second, 2, 0, tally{3, 0}},
			{2 * time.Second, 4, 1, tally{7, 1}},
			{9999 * time.Millisecond, 0, 0, tally{7, 1}},
			{10 * time.Second, 0, 0, tally{6, 1}},
			{11 * time.Second, 0, 0, tally{4, 1}},
			{12 * time.Second, 0, 0, tally{0, 0}},
		}},
		{"skipping buckets clears each", []step{
			{0, 5, 5, tally{5, 5}},
			{3 * time.Second, 1, 0, tally{6, 5}},
			{12500 * time.Millisecond, 0, 0, tally{1, 0}},
			{13 * time.Second, 0, 0, tally{0, 0}},
		}},
		{"gap of a whole window clears", []step{
			{0, 5, 2, tally{5, 2}},
			{9 * time.Second, 1, 1, tally{6, 3}},
			{19 * time.Second, 0, 0, tally{0, 0}},
		}},
		{"huge gap clears", []step{
			{0, 5, 2, tally{5, 2}},
			{1000 * time.Hour, 1, 0, tally{1, 0}},
			{1000*time.Hour + 9*time.Second, 0, 0, tally{1, 0}},
			{1000*time.Hour + 10*time.Second, 0, 0, tally{0, 0}},
		}},
		{"backwards keeps counts and re-anchors", []step{
			{time.Hour, 5, 2, tally{5, 2}},
			{0, 1, 0, tally{6, 2}},
			{9 * time.Second, 0, 0, tally{6, 2}},
			{10 * time.Second, 0, 0, tally{0, 0}},
		}},
		{"maximal duration does not overflow", []step{
			{0, 1, 1, tally{1, 1}},
			{time.Duration(1<<63 - 1), 0, 0, tally{0, 0}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			w.init(10 * time.Second)
			for i, s := range tt.steps {
				w.advance(t0.Add(s.at))
				for range s.firsts {
					w.addFirst()
				}
				for range s.extras {
					w.addExtra()
				}
				assert.Equal(t, s.want, w.sum, "step %d at %v", i, s.at)
				assert.Equal(t, s.want, sumBuckets(&w), "step %d at %v: sum drifted from buckets", i, s.at)
			}
		})
	}
}

func TestWindowTinyDurationHasPositiveWidth(t *testing.T) {
	var w window
	w.init(3) // 3ns cannot be split into 10 buckets
	assert.Equal(t, time.Duration(1), w.width)
	t0 := time.Unix(0, 0)
	w.advance(t0)
	w.addFirst()
	w.advance(t0.Add(9))
	assert.Equal(t, tally{1, 0}, w.sum)
	w.advance(t0.Add(10))
	assert.Equal(t, tally{0, 0}, w.sum)
}

func TestWindowZeroInstantIsValid(t *testing.T) {
	var w window
	w.init(10 * time.Second)
	w.advance(time.Time{})
	w.addFirst()
	w.advance(time.Time{}.Add(time.Second))
	assert.Equal(t, tally{1, 0}, w.sum, "the zero time.Time is an ordinary instant")
}

func sumBuckets(w *window) tally {
	var s tally
	for _, b := range w.buckets {
		s.firsts += b.firsts
		s.extras += b.extras
	}
	return s
}
