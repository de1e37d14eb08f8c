package retry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// hold is one local wait an inner stage reports: from begin to end after
// the request arrived.
type hold struct{ begin, end time.Duration }

// TestAttemptTimeoutSkipsLocalWaits: the attempt timeout does not run while
// an inner stage reports that it holds the request back (attempt.Waiter),
// and gives the upstream the whole timeout from the end of the last wait.
// A timer that fired before a wait stays fired.
func TestAttemptTimeoutSkipsLocalWaits(t *testing.T) {
	const d = 500 * time.Millisecond
	tests := []struct {
		name    string
		holds   []hold        // waits the inner stage reports, in order of begin
		answer  time.Duration // when the upstream answers, from arrival
		wantCut time.Duration // when the attempt is cut by the timeout; 0: it is not
	}{
		{"no wait, slow upstream", nil, time.Hour, d},
		{"no wait, answer in time", nil, d - 1, 0},
		{"a wait past d, then an answer in time", []hold{{0, 800 * time.Millisecond}}, 800*time.Millisecond + d - 1, 0},
		{"a wait, then a slow upstream", []hold{{0, 800 * time.Millisecond}}, time.Hour, 800*time.Millisecond + d},
		{"time before a wait is forgiven with it", []hold{{400 * time.Millisecond, 600 * time.Millisecond}}, time.Hour, 600*time.Millisecond + d},
		{"overlapping waits: the last end re-arms", []hold{{0, 300 * time.Millisecond}, {100 * time.Millisecond, 900 * time.Millisecond}},
			time.Hour, 900*time.Millisecond + d},
		{"a timer that fired stays fired", []hold{{600 * time.Millisecond, 2 * time.Second}}, time.Hour, d},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var cutAt time.Duration
				var holds sync.WaitGroup
				next := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
					ctx, start := req.Context(), time.Now()
					for _, h := range tt.holds {
						holds.Go(func() {
							time.Sleep(h.begin)
							attempt.WaitBegin(ctx)
							time.Sleep(h.end - h.begin)
							attempt.WaitEnd(ctx)
						})
					}
					if err := testkit.Sleep(ctx, tt.answer); err != nil {
						cutAt = time.Since(start)
						assert.ErrorIs(t, context.Cause(ctx), ErrAttemptTimeout)
						return nil, err
					}
					return testkit.Respond(req, http.StatusOK, "ok", nil), nil
				})
				rt := New(Config{AttemptTimeout: d, MaxAttempts: 1}).Wrap(next)
				req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
				resp, err := rt.RoundTrip(req)
				if tt.wantCut == 0 {
					if assert.NoError(t, err) {
						resp.Body.Close()
					}
				} else {
					assert.ErrorIs(t, err, ErrAttemptTimeout)
				}
				assert.Equal(t, tt.wantCut, cutAt)
				holds.Wait()
			})
		})
	}
}

// TestAttemptTimeoutLateWait: a wait that ends after the attempt returned
// (a hedge's loser, still queued in a throttle) arms nothing: the body of
// the response that came back stays readable past the timeout.
func TestAttemptTimeoutLateWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 100 * time.Millisecond
		var actx context.Context
		next := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			actx = req.Context()
			attempt.WaitBegin(actx)
			go func() {
				time.Sleep(d / 2)
				attempt.WaitEnd(actx)
			}()
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		})
		rt := New(Config{AttemptTimeout: d}).Wrap(next)
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
		resp, err := rt.RoundTrip(req)
		if !assert.NoError(t, err) {
			return
		}
		time.Sleep(3 * d)
		assert.NoError(t, actx.Err(), "the attempt's context outlives the timeout while the body is open")
		resp.Body.Close()
	})
}

// TestNestedAttemptTimeouts: in retry(retry(...)) both stages hear of a
// wait below them, the inner forwarding it to the outer.
func TestNestedAttemptTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const wait = 800 * time.Millisecond
		next := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			attempt.WaitBegin(req.Context())
			err := testkit.Sleep(req.Context(), wait)
			attempt.WaitEnd(req.Context())
			if err != nil {
				return nil, err
			}
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		})
		inner := New(Config{AttemptTimeout: 300 * time.Millisecond, MaxAttempts: 1})
		outer := New(Config{AttemptTimeout: 500 * time.Millisecond, MaxAttempts: 1})
		rt := outer.Wrap(inner.Wrap(next))
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
		resp, err := rt.RoundTrip(req)
		if assert.NoError(t, err) {
			resp.Body.Close()
		}
		assert.False(t, errors.Is(err, ErrAttemptTimeout))
	})
}
