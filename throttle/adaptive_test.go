package throttle

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRejectProbability(t *testing.T) {
	tests := []struct {
		requests, accepts, k, want float64
	}{
		{0, 0, 2, 0},
		{100, 100, 2, 0},
		{100, 50, 2, 0},           // K = 2 tolerates half refused
		{100, 40, 2, 20.0 / 101},  // beyond: reject the excess over K × accepts
		{100, 0, 2, 100.0 / 101},  // everything refused: nearly everything shed
		{100, 90, 1.1, 1.0 / 101}, // failsafe-go's K ≈ 1.11 is more aggressive
		{1000, 100, 2, (1000 - 200) / 1001.0},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, rejectProbability(tt.requests, tt.accepts, tt.k), 1e-12, "%+v", tt)
	}
}

// TestAdaptiveShedsLocally: a host that refuses nearly everything (503s
// without a pause) gets most requests rejected locally, at once, and about
// K times its accepts still sent.
func TestAdaptiveShedsLocally(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 503)
		th := New(Config{})
		rt := th.Wrap(u)
		const n = 2000
		var adaptive int
		for range n {
			_, err := send(context.Background(), rt, "http://a.test/")
			if err != nil {
				var te *Error
				require.ErrorAs(t, err, &te)
				assert.Equal(t, Adaptive, te.Reason)
				assert.True(t, te.Until.IsZero(), "nobody knows when the host recovers")
				assert.Zero(t, te.RetryAfter(), "so the retry stage does not retry it")
				adaptive++
			}
			time.Sleep(10 * time.Millisecond)
		}
		assert.EqualValues(t, adaptive, th.Stats().RejectedAdaptive)
		assert.Greater(t, adaptive, n*8/10, "most requests shed locally")
		assert.Equal(t, n-adaptive, u.count())
	})
}

func TestAdaptiveDisabled(t *testing.T) {
	u := &upstream{}
	u.answer = always(u, 503)
	rt := New(Config{K: -1}).Wrap(u)
	for range 100 {
		_, err := send(context.Background(), rt, "http://a.test/")
		require.NoError(t, err)
	}
	assert.Equal(t, 100, u.count())
}

// TestAdaptiveMinRequests: a quiet client whose first requests were
// refused is not shed locally yet.
func TestAdaptiveMinRequests(t *testing.T) {
	t0 := time.Now()
	a := newAdaptive(2, time.Minute)
	for range AdaptiveMinRequests - 1 {
		a.record(t0, false)
	}
	assert.Zero(t, a.rejectProbability(t0))
	a.record(t0, false)
	assert.InDelta(t, 10.0/11, a.rejectProbability(t0), 1e-12)
}

// TestAdaptiveWindowForgets: refusals older than the window stop counting.
func TestAdaptiveWindowForgets(t *testing.T) {
	t0 := time.Now()
	a := newAdaptive(2, time.Minute)
	for range 100 {
		a.record(t0, false)
	}
	assert.InDelta(t, 100.0/101, a.rejectProbability(t0), 1e-12)
	assert.Zero(t, a.rejectProbability(t0.Add(time.Minute)))
}
