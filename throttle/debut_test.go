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

// TestNewHostDebut: a new host gets NewHostRequests requests before its
// first answer; the others wait for that answer (which teaches the pace
// its quota) or for NewHostWait, whichever comes first. Before, 16 callers
// starting together against the quota lab's IETF server (100/s in bursts
// of 10) sent 16 requests before any answer: the burst's 429 closed the
// host's gate for a rounded-up second, 3% of a 30 s run.
func TestNewHostDebut(t *testing.T) {
	tests := []struct {
		name    string
		latency time.Duration // of every answer
		want    []time.Duration
	}{
		// The first answer (10 ms) announces 100/s with 5 remaining: the
		// bucket holds none then (the reserve is 10), so the others go
		// at the pace, from the next token on.
		{"answered: the rest go at the pace the answer taught", 10 * time.Millisecond,
			[]time.Duration{0, 0, 0, 0, 20 * time.Millisecond, 30 * time.Millisecond, 40 * time.Millisecond, 50 * time.Millisecond}},
		{"slow: the rest go after NewHostWait", 5 * time.Second,
			[]time.Duration{0, 0, 0, 0, NewHostWait, NewHostWait, NewHostWait, NewHostWait}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{latency: tt.latency}
				u.answer = always(u, 200, "RateLimit-Policy", `"q";q=100;w=1`, "RateLimit", `"q";r=5;t=1`)
				rt := New(Config{}).Wrap(u)
				start := time.Now()
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						_, err := send(context.Background(), rt, "http://new.test/")
						assert.NoError(t, err)
					})
				}
				wg.Wait()
				assert.Equal(t, tt.want, sorted(u.times(start)))
			})
		})
	}
}

// TestNewHostDebutExceptions: a request that cannot afford to wait for the
// first answer goes at once, a hedge that finds no place is refused, and a
// place whose request never reached the host passes to a waiter.
func TestNewHostDebutExceptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{latency: 5 * time.Second}
		u.answer = always(u, 200)
		rt := New(Config{}).Wrap(u)
		start := time.Now()
		canceled, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range NewHostRequests {
			ctx := context.Background()
			if i == 0 {
				ctx = canceled
			}
			wg.Go(func() { send(ctx, rt, "http://new.test/") })
		}
		synctest.Wait() // the debut's places are taken

		_, err := send(hedgeCtx(context.Background(), 2), rt, "http://new.test/")
		var te *Error
		require.ErrorAs(t, err, &te, "a hedge finds no place")
		assert.Equal(t, Gate, te.Reason)

		short, cancelShort := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancelShort()
		wg.Go(func() { send(short, rt, "http://new.test/") }) // cannot wait NewHostWait: goes at once
		wg.Go(func() { send(context.Background(), rt, "http://new.test/") })
		synctest.Wait()
		assert.Equal(t, NewHostRequests+1, u.count(), "the short one went, the other waits")

		time.Sleep(100 * time.Millisecond)
		cancel() // the first place's request never gets an answer: its place passes on
		synctest.Wait()
		times := sorted(u.times(start))
		assert.Equal(t, 100*time.Millisecond, times[len(times)-1], "the waiter took the place given back")
		wg.Wait()
	})
}
