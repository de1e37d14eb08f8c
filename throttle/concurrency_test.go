package throttle

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlotsFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSlots(1)
		require.True(t, s.tryAcquire())
		var order []int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * time.Millisecond)
				assert.NoError(t, s.acquire(context.Background(), time.Now().Add(time.Hour)))
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				s.release()
			})
		}
		time.Sleep(10 * time.Millisecond)
		used, queued := s.inUse()
		assert.Equal(t, 1, used)
		assert.Equal(t, 3, queued)
		assert.False(t, s.tryAcquire(), "a newcomer never overtakes the queue")
		s.release()
		wg.Wait()
		assert.Equal(t, []int{0, 1, 2}, order)
		used, queued = s.inUse()
		assert.Zero(t, used+queued)
	})
}

func TestSlotsGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSlots(1)
		require.True(t, s.tryAcquire())
		assert.Equal(t, errSlotTimeout, s.acquire(context.Background(), time.Now().Add(time.Second)))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		assert.ErrorIs(t, s.acquire(ctx, time.Now().Add(time.Hour)), context.Canceled)
		_, queued := s.inUse()
		assert.Zero(t, queued, "a waiter that gave up left the queue")
		s.release()
		assert.True(t, s.tryAcquire())
	})
	var none *slots
	assert.True(t, none.tryAcquire(), "no cap")
	none.release()
}

// TestMaxConcurrent: at most MaxConcurrent requests are in flight to one
// host; the others wait for a slot, or are rejected when they cannot.
func TestMaxConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{latency: time.Second}
		u.answer = always(u, 200)
		th := New(Config{MaxConcurrent: 2, MaxWait: 1500 * time.Millisecond})
		rt := th.Wrap(u)
		send(context.Background(), rt, "http://a.test/") // the host has answered: past its debut
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range 5 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * time.Millisecond)
				_, errs[i] = send(context.Background(), rt, "http://a.test/")
			})
		}
		time.Sleep(10 * time.Millisecond) // both slots are taken
		_, err := send(hedgeCtx(context.Background(), 2), rt, "http://a.test/")
		var te *Error
		require.ErrorAs(t, err, &te, "a hedge never waits for a slot")
		assert.Equal(t, Concurrency, te.Reason)
		assert.True(t, te.Until.IsZero(), "nobody knows when a slot frees")
		wg.Wait()
		assert.Equal(t, []time.Duration{-time.Second, 0, time.Millisecond, time.Second, time.Second + time.Millisecond}, u.times(start))
		assert.NoError(t, errs[0])
		assert.NoError(t, errs[3])
		require.ErrorAs(t, errs[4], &te, "the fifth would wait until 2 s, past MaxWait")
		assert.Equal(t, Concurrency, te.Reason)
		assert.EqualValues(t, 2, th.Stats().RejectedConcurrency)
	})
}
