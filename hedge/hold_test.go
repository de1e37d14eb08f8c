package hedge

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// waitCounter is an attempt.Waiter that counts what it hears.
type waitCounter struct {
	mu           sync.Mutex // guards the counts
	begun, ended int
}

func (w *waitCounter) WaitBegin() { w.mu.Lock(); w.begun++; w.mu.Unlock() }
func (w *waitCounter) WaitEnd()   { w.mu.Lock(); w.ended++; w.mu.Unlock() }

// TestHedgeDelayHeldByLocalWait: the hedge delay does not run while an
// inner stage holds the original back locally (attempt.Waiter: a
// throttle's pace turn, say). The hedge goes its delay after the start,
// not counting the wait, and not at all when the answer comes in time
// after it. The wait is passed on to a listener outside the stage (a
// retry stage's attempt timeout).
func TestHedgeDelayHeldByLocalWait(t *testing.T) {
	const delay = 100 * time.Millisecond
	tests := []struct {
		name        string
		holdFrom    time.Duration // when the inner stage starts holding the original
		holdFor     time.Duration // 0: it does not
		answer      time.Duration // the original's answer, after the hold
		wantHedgeAt time.Duration // 0: no hedge
	}{
		{"no wait, slow original", 0, 0, time.Second, delay},
		{"held 800ms, fast after", 0, 800 * time.Millisecond, delay / 2, 0},
		{"held 800ms, slow after", 0, 800 * time.Millisecond, time.Second, 800*time.Millisecond + delay},
		{"held from 50ms for 800ms, slow after", 50 * time.Millisecond, 800 * time.Millisecond, time.Second,
			850*time.Millisecond + delay/2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var hedgeAt time.Duration
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					if CopyFrom(req.Context()) > 1 {
						hedgeAt = time.Since(start)
						return after(req, 10*time.Second, http.StatusOK, nil)
					}
					if tt.holdFor > 0 {
						time.Sleep(tt.holdFrom)
						attempt.WaitBegin(req.Context())
						time.Sleep(tt.holdFor)
						attempt.WaitEnd(req.Context())
					}
					return after(req, tt.answer, http.StatusOK, nil)
				}}
				h := New(Config{Delay: delay})
				outer := &waitCounter{}
				req := newGet(t).WithContext(attempt.WithWaiter(context.Background(), outer))
				resp, err := h.Wrap(stub).RoundTrip(req)
				if assert.NoError(t, err) {
					resp.Body.Close()
				}
				assert.Equal(t, tt.wantHedgeAt, hedgeAt)
				want := uint64(0)
				if tt.wantHedgeAt > 0 {
					want = 1
				}
				assert.Equal(t, want, h.Stats().Hedges)
				if tt.holdFor > 0 {
					assert.Equal(t, 1, outer.begun, "the wait reaches the listener outside")
				}
				assert.Equal(t, outer.begun, outer.ended)
			})
		})
	}
}
