package retry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errFakeOpen stands for breaker.ErrOpen; fakeRejection for the breaker's
// error type, which implements idempotency.Rejection.
var errFakeOpen = errors.New("fake breaker: open")

type fakeRejection struct{ after time.Duration }

func (e *fakeRejection) Error() string             { return fmt.Sprintf("fake breaker: open for %v", e.after) }
func (e *fakeRejection) Unwrap() error             { return errFakeOpen }
func (e *fakeRejection) Rejected() bool            { return true }
func (e *fakeRejection) RetryAfter() time.Duration { return e.after }

func rejected(after time.Duration) step { return step{err: &fakeRejection{after: after}} }

// An inner rejection is never retried after a blind backoff: with a hint
// that fits, the stage waits exactly the hint (POST included: nothing was
// sent); otherwise it returns at once, errors.Is still matching.
func TestRejection(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		timeout  time.Duration // caller deadline; 0 = none
		steps    []step
		calls    int
		elapsed  time.Duration
		ok       bool
		attempts int // *Error.Attempts; 0 = returned untouched
		stats    Stats
	}{
		{"no hint: at once", "GET", 0, []step{rejected(0), status(200)}, 1, 0, false, 0,
			Stats{Requests: 1}},
		{"hint fits: waits exactly", "GET", 0, []step{rejected(2 * time.Second), status(200)}, 2, 2 * time.Second, true, 0,
			Stats{Requests: 1, Retries: 1}},
		{"POST hint fits: waits exactly", "POST", 0, []step{rejected(time.Second), status(200)}, 2, time.Second, true, 0,
			Stats{Requests: 1, Retries: 1}},
		{"hint past deadline: at once", "GET", 5 * time.Second, []step{rejected(10 * time.Second), status(200)}, 1, 0, false, 1,
			Stats{Requests: 1, DeadlineStops: 1}},
		{"hint above MaxRetryAfter: at once", "GET", 0, []step{rejected(time.Minute), status(200)}, 1, 0, false, 1,
			Stats{Requests: 1, ThrottleStops: 1}},
		{"still rejected: attempts run out", "GET", 0, []step{rejected(time.Second)}, 3, 2 * time.Second, false, 3,
			Stats{Requests: 1, Retries: 2, Exhausted: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if tc.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.timeout)
					defer cancel()
				}
				s := newScript(tc.steps...)
				r := New(Config{})
				start := time.Now()
				resp, err := r.Wrap(s).RoundTrip(newReq(t, ctx, tc.method, "body"))
				assert.Equal(t, tc.elapsed, time.Since(start))
				assert.Equal(t, tc.calls, s.Calls())
				assert.Equal(t, tc.stats, r.Stats())
				if tc.ok {
					require.NoError(t, err)
					assert.Equal(t, 200, resp.StatusCode)
					resp.Body.Close()
					return
				}
				assert.ErrorIs(t, err, errFakeOpen)
				var re *Error
				if tc.attempts == 0 {
					assert.False(t, errors.As(err, &re), "returned untouched")
				} else {
					require.ErrorAs(t, err, &re)
					assert.Equal(t, tc.attempts, re.Attempts)
				}
			})
		})
	}
}
