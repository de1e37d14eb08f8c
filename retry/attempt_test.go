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
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// blackHole never answers: it waits for the attempt's context.
func blackHole() *testkit.Stub {
	return &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		return nil, testkit.Sleep(req.Context(), 24*time.Hour)
	}}
}

// A black-holed upstream is retried after each AttemptTimeout.
func TestAttemptTimeoutRetriesBlackHole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := blackHole()
		r := New(Config{AttemptTimeout: time.Second, Jitter: NoJitter})
		var kinds []idempotency.Kind
		r.cfg.onRetry = func(i RetryInfo) { kinds = append(kinds, i.Outcome.Kind) }
		start := time.Now()
		resp, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		assert.Nil(t, resp)
		// 1 s + BaseDelay + 1 s + 2 × BaseDelay + 1 s.
		assert.Equal(t, 3*time.Second+3*DefaultBaseDelay, time.Since(start))
		assert.Equal(t, 3, s.Calls())
		assert.ErrorIs(t, err, ErrAttemptTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, context.Canceled)
		var re *Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 3, re.Attempts)
		assert.Contains(t, err.Error(), "no response within 1s")
		assert.Equal(t, []idempotency.Kind{idempotency.Transient, idempotency.Transient}, kinds)
		var te interface{ Timeout() bool }
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Timeout())
		assert.NoError(t, t.Context().Err())
		synctest.Wait()
	})
}

// A POST without a key that times out may have been sent: not retried.
func TestAttemptTimeoutPostNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := blackHole()
		_, err := New(Config{AttemptTimeout: time.Second}).Wrap(s).RoundTrip(newReq(t, t.Context(), "POST", "x"))
		assert.ErrorIs(t, err, ErrAttemptTimeout)
		assert.Equal(t, 1, s.Calls())
	})
}

// The caller's deadline still wins over the attempt timeout.
func TestAttemptTimeoutWithinCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := blackHole()
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := New(Config{AttemptTimeout: time.Second, Jitter: NoJitter}).Wrap(s).RoundTrip(newReq(t, ctx, "GET", ""))
		// Attempt 1 times out at 1 s, attempt 2 starts at 1.1 s and is cut
		// by the caller's deadline at 1.5 s.
		assert.Equal(t, 1500*time.Millisecond, time.Since(start))
		assert.Equal(t, 2, s.Calls())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, ErrAttemptTimeout, "the caller's deadline, not ours")
	})
}

// ctxBody fails reads once the request's context is done, as a real HTTP
// body does.
type ctxBody struct {
	ctx context.Context
	r   io.Reader
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}
func (b *ctxBody) Close() error { return nil }

// AttemptTimeout bounds the wait for headers, not the body read: the body
// stays readable long after the timeout, until the caller closes it.
func TestAttemptTimeoutLeavesBodyReadable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attemptCtx context.Context
		s := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			if err := testkit.Sleep(req.Context(), 500*time.Millisecond); err != nil {
				return nil, err
			}
			attemptCtx = req.Context()
			resp := testkit.Respond(req, 200, "", nil)
			resp.Body = &ctxBody{ctx: req.Context(), r: strings.NewReader("hello")}
			return resp, nil
		}}
		resp, err := New(Config{AttemptTimeout: time.Second}).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		time.Sleep(5 * time.Second)
		assert.Equal(t, "hello", readBody(t, resp))
		assert.ErrorIs(t, attemptCtx.Err(), context.Canceled, "closing the body releases the attempt")
		synctest.Wait()
	})
}

// A response arriving after the timer fired is discarded (its body would
// fail) and the attempt counts as timed out.
func TestAttemptTimeoutLateResponseDiscarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		s := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				<-req.Context().Done() // ignores cancellation's error, answers anyway
				return testkit.Respond(req, 200, "late", &tr), nil
			}
			return testkit.Respond(req, 200, "fresh", &tr), nil
		}}
		resp, err := New(Config{AttemptTimeout: time.Second}).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		assert.Equal(t, "fresh", readBody(t, resp))
		assert.Equal(t, 2, s.Calls())
		assert.Zero(t, tr.Open())
	})
}

func TestAttemptTimeoutGetBodyFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503))
		req := newReq(t, t.Context(), "PUT", "abc")
		boom := errors.New("boom")
		req.GetBody = func() (io.ReadCloser, error) { return nil, boom }
		resp, err := New(Config{AttemptTimeout: time.Second}).Wrap(s).RoundTrip(req)
		require.NoError(t, err, "the GetBody failure sent nothing: the last 503 is the answer")
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, http.StatusText(http.StatusServiceUnavailable), readBody(t, resp))
		assert.Equal(t, 1, s.Calls())
		synctest.Wait()
	})
}
