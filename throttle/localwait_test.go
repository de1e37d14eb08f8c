package throttle

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/internal/attempt"
)

// heldFor is an attempt.Waiter that sums the time a request was held back.
type heldFor struct {
	mu           sync.Mutex // guards the fields below
	begun, ended int
	waiting      int
	since, total time.Duration
	start        time.Time
}

func (h *heldFor) WaitBegin() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.begun++
	if h.waiting++; h.waiting == 1 {
		h.since = time.Since(h.start)
	}
}

func (h *heldFor) WaitEnd() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended++
	if h.waiting--; h.waiting == 0 {
		h.total += time.Since(h.start) - h.since
	}
}

// TestWaitsReported: every wait of a request in the throttle — for its
// pace turn, at a closed gate, in a new host's debut, for a concurrency
// slot — is reported to an enclosing attempt.Waiter (a retry stage's
// attempt timeout, which must not count it), begun and ended in pairs,
// and a request that does not wait reports nothing.
func TestWaitsReported(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		latency time.Duration
		answer  func(u *upstream) func(int, *http.Request) *http.Response
		warm    bool          // a request to the host is answered first: its debut is over
		before  int           // requests sent first, together, to set the scene
		want    time.Duration // the measured request's time held back; -1: at least the gate's second
	}{
		{"no wait", Config{}, 0, nil, false, 0, 0},
		{"pace turn", Config{Rate: 1}, 0, nil, false, 1, time.Second},
		{"closed gate", Config{}, 0, func(u *upstream) func(int, *http.Request) *http.Response {
			return func(n int, req *http.Request) *http.Response {
				if n == 1 {
					return reply(req, &u.tr, 429, "Retry-After", "1")
				}
				return reply(req, &u.tr, 200)
			}
		}, false, 1, -1},
		{"new host's debut", Config{}, 5 * time.Second, nil, false, 4, NewHostWait},
		{"concurrency slot", Config{MaxConcurrent: 1}, time.Second, nil, true, 1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{latency: tt.latency}
				u.answer = always(u, 200)
				if tt.answer != nil {
					u.answer = tt.answer(u)
				}
				rt := New(tt.cfg).Wrap(u)
				if tt.warm {
					_, _ = send(context.Background(), rt, "http://up.test/")
				}
				var before sync.WaitGroup
				for range tt.before {
					before.Go(func() { _, _ = send(context.Background(), rt, "http://up.test/") })
				}
				if tt.latency == 0 {
					before.Wait() // the scene is set by their answers
				} else {
					synctest.Wait() // they are in flight
				}
				h := &heldFor{start: time.Now()}
				_, err := send(attempt.WithWaiter(context.Background(), h), rt, "http://up.test/")
				assert.NoError(t, err)
				before.Wait()
				assert.Equal(t, h.begun, h.ended, "every wait begun ends")
				if tt.want < 0 {
					assert.GreaterOrEqual(t, h.total, time.Second)
				} else {
					assert.Equal(t, tt.want, h.total)
				}
				if tt.want == 0 {
					assert.Zero(t, h.begun, "a request that does not wait reports nothing")
				}
			})
		})
	}
}
