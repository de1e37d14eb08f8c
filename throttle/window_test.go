package throttle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWindowRolls(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	w := newWindow(10 * time.Second) // 1 s buckets
	w.add(t0, 1, 1)
	w.add(t0.Add(5*time.Second), 2, 0)
	assert.Equal(t, pair{3, 1}, w.totals(t0.Add(9*time.Second)))
	assert.Equal(t, pair{2, 0}, w.totals(t0.Add(10*time.Second)), "the first bucket rolled out")
	assert.Equal(t, pair{0, 0}, w.totals(t0.Add(15*time.Second)))
	w.add(t0.Add(time.Hour), 1, 0)
	assert.Equal(t, pair{1, 0}, w.totals(t0.Add(time.Hour)), "a gap longer than the window empties it")
	w.add(t0, 1, 0)
	assert.Equal(t, pair{2, 0}, w.totals(t0), "a step back in time keeps the counts")
}

func TestWindowRate(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	w := newWindow(time.Second)
	assert.Zero(t, w.rate(t0, 100*time.Millisecond))
	for i := range 16 {
		w.add(t0.Add(time.Duration(i)*time.Millisecond), 1, 0)
	}
	assert.InDelta(t, 160, w.rate(t0.Add(16*time.Millisecond), 100*time.Millisecond), 1e-9, "16 in 16 ms count over the minimum span")
	for i := range 100 {
		w.add(t0.Add(time.Duration(20+i*10)*time.Millisecond), 1, 0)
	}
	assert.InDelta(t, 100, w.rate(t0.Add(1020*time.Millisecond), 100*time.Millisecond), 10,
		"about the 100/s sent over the last second, give or take a bucket")
}
