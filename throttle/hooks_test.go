package throttle

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnThrottle: one event per delayed or rejected request, on the
// request's goroutine, with the reason it waited longest for.
func TestOnThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "2", "RateLimit-Policy", `"p";q=1;w=1`)
			}
			return reply(req, &u.tr, 200)
		}
		var (
			mu     sync.Mutex
			events []Event
		)
		th := New(Config{MaxWait: 5 * time.Second, OnThrottle: func(e Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}})
		rt := th.Wrap(u)
		send(context.Background(), rt, "http://a.test/") // closes the gate for 2 s
		require.Empty(t, events, "a request sent at once fires no event")

		_, err := send(context.Background(), rt, "http://a.test/") // waits 2 s at the gate
		require.NoError(t, err)
		send(context.Background(), th.Wrap(u), "http://a.test/") // another Wrap, the same state: 1 s of pace
		u.answer = always(u, 429, "Retry-After", "10")
		send(context.Background(), rt, "http://a.test/") // 1 s of pace; closes the gate for 10 s
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = send(ctx, rt, "http://a.test/")
		var te *Error
		require.ErrorAs(t, err, &te)

		require.Len(t, events, 4)
		assert.Equal(t, Gate, events[0].Reason)
		assert.Equal(t, 2*time.Second, events[0].Wait)
		assert.False(t, events[0].Rejected)
		for _, e := range events[1:3] {
			assert.Equal(t, Pace, e.Reason, "a token of the 1/s pace")
			assert.Equal(t, time.Second, e.Wait)
		}
		assert.True(t, events[3].Rejected)
		assert.Same(t, te, events[3].Err)
		assert.Equal(t, Gate, events[3].Reason)
		assert.Zero(t, events[3].Wait)

		st := th.Stats()
		assert.EqualValues(t, 4, st.Admitted)
		assert.EqualValues(t, 3, st.Waited)
		assert.EqualValues(t, 1, st.Rejected())
		assert.EqualValues(t, 2, st.Pauses)
	})
}
