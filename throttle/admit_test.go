package throttle

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// TestWaitsAndTheDeadline covers every wait path against a context
// deadline and MaxWait. A wait whose end is known (a closed gate, a pace
// turn) and falls past the limit is refused at once with ErrThrottled and
// the instant the request could go; a wait of unknown length (a probe's
// answer, a concurrency slot) runs until the limit: when that is the
// context's deadline, the caller gets ctx.Err() untouched at the deadline
// (it got ErrThrottled, "gate closed", a nanosecond before), and when it
// is MaxWait, ErrThrottled at MaxWait.
func TestWaitsAndTheDeadline(t *testing.T) {
	const slow = 3 * time.Second // how long a request in flight holds the probe or the slot
	type setup struct {
		cfg Config
		// prime runs before the request under test, which is sent at the
		// instant prime returns; busy requests it starts must end by slow.
		prime func(t *testing.T, rt http.RoundTripper)
	}
	// answers: 1: 429 with Retry-After: 1; any request to /slow: 200
	// after slow; others: 200 at once.
	answer := func(u *upstream) func(int, *http.Request) *http.Response {
		return func(n int, req *http.Request) *http.Response {
			if req.URL.Path == "/slow" {
				testkit.Sleep(req.Context(), slow)
			}
			if n == 1 && req.URL.Path == "/pause" {
				return reply(req, &u.tr, 429, "Retry-After", "1", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200, "RateLimit-Policy", roomy)
		}
	}
	closedGate := setup{prime: func(t *testing.T, rt http.RoundTripper) {
		_, err := send(context.Background(), rt, "http://a.test/pause") // gate closed for 1 s
		require.NoError(t, err)
	}}
	probeInFlight := setup{prime: func(t *testing.T, rt http.RoundTripper) {
		closedGate.prime(t, rt)
		time.Sleep(time.Second)
		go send(context.Background(), rt, "http://a.test/slow") // the probe, answered after slow
		synctest.Wait()
	}}
	slotTaken := setup{cfg: Config{MaxConcurrent: 1}, prime: func(t *testing.T, rt http.RoundTripper) {
		go send(context.Background(), rt, "http://a.test/slow")
		synctest.Wait()
	}}
	paceTaken := setup{cfg: Config{Rate: 1}, prime: func(t *testing.T, rt http.RoundTripper) {
		_, err := send(context.Background(), rt, "http://a.test/") // the next token is 1 s away
		require.NoError(t, err)
	}}

	tests := []struct {
		name     string
		setup    setup
		maxWait  time.Duration
		timeout  time.Duration // the request's deadline; 0: none
		wantErr  error         // context.DeadlineExceeded, or ErrThrottled with reason
		reason   Reason
		until    time.Duration // the rejection's Until, from the request's start; 0: unknown
		returnAt time.Duration // when RoundTrip returns, from the request's start
	}{
		{"gate closed past the deadline: refused at once", closedGate, 0, 500 * time.Millisecond, ErrThrottled, Gate, time.Second, 0},
		{"pace turn past the deadline: refused at once", paceTaken, 0, 500 * time.Millisecond, ErrThrottled, Pace, time.Second, 0},
		{"probe in flight until past the deadline: ctx.Err() at the deadline", probeInFlight, 0, 700 * time.Millisecond, context.DeadlineExceeded, 0, 0, 700 * time.Millisecond},
		{"slot taken until past the deadline: ctx.Err() at the deadline", slotTaken, 0, 700 * time.Millisecond, context.DeadlineExceeded, 0, 0, 700 * time.Millisecond},
		{"probe in flight past MaxWait: refused at MaxWait", probeInFlight, 700 * time.Millisecond, 0, ErrThrottled, Gate, 0, 700 * time.Millisecond},
		{"slot taken past MaxWait: refused at MaxWait", slotTaken, 700 * time.Millisecond, 0, ErrThrottled, Concurrency, 0, 700 * time.Millisecond},
		{"MaxWait shorter than the deadline decides", slotTaken, 700 * time.Millisecond, 2 * time.Second, ErrThrottled, Concurrency, 0, 700 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = answer(u)
				cfg := tt.setup.cfg
				cfg.MaxWait = tt.maxWait
				th := New(cfg)
				rt := th.Wrap(u)
				tt.setup.prime(t, rt)
				sent := u.count()

				ctx := context.Background()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				start := time.Now()
				_, err := send(ctx, rt, "http://a.test/")
				assert.Equal(t, tt.returnAt, time.Since(start), "returned at")
				assert.Equal(t, sent, u.count(), "nothing was sent")
				if tt.wantErr == ErrThrottled {
					var te *Error
					require.ErrorAs(t, err, &te)
					assert.Equal(t, tt.reason, te.Reason)
					if tt.until > 0 {
						assert.Equal(t, start.Add(tt.until), te.Until)
					} else {
						assert.True(t, te.Until.IsZero(), "unknown: %v", te.Until)
					}
				} else {
					assert.Equal(t, tt.wantErr, err, "ctx.Err() untouched, not wrapped")
					assert.False(t, errors.Is(err, ErrThrottled))
					assert.Zero(t, th.Stats().Rejected(), "the caller's deadline is no rejection")
				}
				time.Sleep(slow) // let the busy request end inside the bubble
			})
		})
	}
}
