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

// TestRejectionReturnedAtOnce: an inner stage's rejection is returned at
// once, whatever RetryAfter hint it carries (issue 11, bug 11): the
// rejecting stage has already applied its own waiting policy, and waiting
// here parked callers behind an open breaker. errors.Is still matches; a
// rejection after a real attempt comes wrapped in *Error with the count.
func TestRejectionReturnedAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		timeout  time.Duration // caller deadline; 0 = none
		steps    []step
		calls    int
		elapsed  time.Duration
		attempts int // *Error.Attempts; 0 = returned untouched
		stats    Stats
	}{
		{"no hint", "GET", 0, []step{rejected(0), status(200)}, 1, 0, 0,
			Stats{Requests: 1}},
		{"hint that fits MaxRetryAfter", "GET", 0, []step{rejected(2 * time.Second), status(200)}, 1, 0, 0,
			Stats{Requests: 1}},
		{"POST with a hint", "POST", 0, []step{rejected(time.Second), status(200)}, 1, 0, 0,
			Stats{Requests: 1}},
		{"hint past the deadline", "GET", 5 * time.Second, []step{rejected(10 * time.Second), status(200)}, 1, 0, 0,
			Stats{Requests: 1}},
		{"hint above MaxRetryAfter", "GET", 0, []step{rejected(time.Minute), status(200)}, 1, 0, 0,
			Stats{Requests: 1}},
		{"after a 503 and its backoff", "GET", 0, []step{retryAfter(503, "1"), rejected(time.Second), status(200)}, 2, time.Second, 2,
			Stats{Requests: 1, Retries: 1}},
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
				assert.Nil(t, resp)
				assert.GreaterOrEqual(t, time.Since(start), tc.elapsed)
				assert.LessOrEqual(t, time.Since(start), spread(tc.elapsed, 1), "a Retry-After wait is spread")
				assert.Equal(t, tc.calls, s.Calls())
				assert.Equal(t, tc.stats, r.Stats())
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
