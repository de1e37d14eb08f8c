package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestGetBodyFailureReturnsLastOutcome is issue 11's bug 7, retry side: a
// GetBody failure sends nothing, so it is no attempt and no retry. The
// stage returns the last outcome that was really sent — a 503 response
// as a response, with its body unread, or the last error in an *Error —
// counts no retry, spends no budget, and counts the stop as BodyStops.
func TestGetBodyFailureReturnsLastOutcome(t *testing.T) {
	reset := errors.New("connection reset")
	tests := []struct {
		name     string
		steps    []step
		okBodies int // GetBody calls that succeed before it fails
		calls    int
		status   int   // the response returned; 0 for an error
		attempts int   // *Error.Attempts for an error
		stats    Stats // the retry stage's
	}{
		{"503, then GetBody fails", []step{status(503), status(200)}, 0, 1, 503, 0,
			Stats{Requests: 1, BodyStops: 1}},
		{"503, 502, then GetBody fails", []step{status(503), status(502), status(200)}, 1, 2, 502, 0,
			Stats{Requests: 1, Retries: 1, BodyStops: 1}},
		{"reset, then GetBody fails", []step{{err: reset}, status(200)}, 0, 1, 0, 1,
			Stats{Requests: 1, BodyStops: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(tc.steps...)
				boom := errors.New("boom")
				req := newReq(t, t.Context(), "PUT", "abc")
				calls := 0
				req.GetBody = func() (io.ReadCloser, error) {
					if calls++; calls > tc.okBodies {
						return nil, boom
					}
					return io.NopCloser(strings.NewReader("abc")), nil
				}
				b := budget.New(budget.Config{})
				r := New(Config{Budget: b})
				resp, err := r.Wrap(s).RoundTrip(req)
				assert.Equal(t, tc.calls, s.Calls())
				assert.Equal(t, tc.stats, r.Stats())
				assert.Equal(t, uint64(tc.stats.Retries), b.Stats().Withdrawals, "budget spent only on retries sent")
				assert.NotErrorIs(t, err, boom, "the GetBody failure is not an attempt's outcome")
				if tc.status != 0 {
					require.NoError(t, err)
					assert.Equal(t, tc.status, resp.StatusCode)
					assert.Equal(t, http.StatusText(tc.status), readBody(t, resp), "the last response, body unread")
				} else {
					assert.Nil(t, resp)
					var re *Error
					require.ErrorAs(t, err, &re)
					assert.Equal(t, tc.attempts, re.Attempts)
					assert.ErrorIs(t, err, reset)
				}
				assert.Zero(t, s.tr.Open())
			})
		})
	}
}

// A retry's body is made before the wait; when the caller cancels during
// the wait, that unsent body is closed, and so is it when the budget
// refuses the retry.
func TestUnsentRetryBodyClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget *budget.Budget
		cancel bool
	}{
		{"caller cancels the wait", nil, true},
		{"budget refuses", budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(retryAfter(503, "5"), status(200))
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				req := newReq(t, ctx, "PUT", "abc")
				var bodies testkit.Tracker
				req.GetBody = func() (io.ReadCloser, error) { return bodies.Body("abc"), nil }
				if tc.cancel {
					time.AfterFunc(time.Second, cancel)
				}
				resp, err := New(Config{Budget: tc.budget}).Wrap(s).RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				assert.Equal(t, 1, s.Calls())
				assert.Zero(t, bodies.Open(), "the unsent retry's body is closed")
			})
		})
	}
}
