package breaker

import (
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OpenTimeout math.MaxInt64 ("open until restarted") keeps a key open
// for as long as a Duration lasts, whatever path opens it: its own trip,
// a return from the graveyard, the fleet. The sum that made Until its
// first admitted instant wrapped around: OpenError.Until fell in 1707,
// RetryAfter was 0, and the key, evicted, came back due a probe at once.
func TestHugeOpenTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream() // 502
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: math.MaxInt64, MaxKeys: 1})
		rt := b.Wrap(u)
		send(t.Context(), rt, "http://a.test/")
		_, err := send(t.Context(), rt, "http://a.test/")
		var oe *OpenError
		require.True(t, errors.As(err, &oe), "refused: %v", err)
		assert.Greater(t, oe.Until.Year(), 2200)
		assert.Greater(t, oe.RetryAfter(), 200*365*24*time.Hour)
		time.Sleep(time.Hour)
		send(t.Context(), rt, "http://other.test/") // evicts a.test into the graveyard
		before := u.Calls()
		_, err = send(t.Context(), rt, "http://a.test/")
		assert.ErrorIs(t, err, ErrOpen, "back from the graveyard, still open")
		assert.Equal(t, before, u.Calls(), "nothing sent")
		assert.Equal(t, Open, b.StateOf(hostA))
	})
}

// The fleet's open period at OpenTimeout math.MaxInt64 is taken, not
// wrapped into the past and ignored (by a process whose clock started
// before the newest report, the sum overflowed).
func TestFleetHugeOpenTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &memFleet{}
		sick := &health{}
		sick.failing.Store(true)
		cfg := Config{OpenTimeout: math.MaxInt64}
		cfg.Fleet = f.proc("e")
		late := New(cfg).Wrap(sick) // its clock started before the reports were made
		for _, name := range []string{"a", "b", "c", "d"} {
			cfg.Fleet = f.proc(name)
			rt := New(cfg).Wrap(sick)
			for range DefaultConsecutiveFailures {
				get(rt)
			}
		}
		time.Sleep(time.Second)
		_, err := get(late)
		var oe *OpenError
		require.ErrorAs(t, err, &oe, "its first request finds the key open fleet-wide")
		assert.Greater(t, oe.Until.Year(), 2200)
	})
}
