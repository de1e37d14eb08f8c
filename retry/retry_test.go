package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/testkit"
)

var (
	errReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	errDial  = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
)

// Which requests are retried, after which outcomes, and how many calls
// reach the upstream: the rules table of the package doc.
func TestRetryRules(t *testing.T) {
	key := []string{"Idempotency-Key", "k-1"}
	tests := []struct {
		name    string
		method  string
		body    string
		hdr     []string
		steps   []step
		calls   int
		status  int   // expected final status; 0 for an error
		wantErr error // errors.Is target
		wrapped bool  // the error is a *Error
	}{
		{"GET 503,503,200", "GET", "", nil, []step{status(503), status(503), status(200)}, 3, 200, nil, false},
		{"GET 503 exhausted returns the 503", "GET", "", nil, []step{status(503)}, 3, 503, nil, false},
		{"GET 500,502,504 are transient", "GET", "", nil, []step{status(500), status(502), status(504)}, 3, 504, nil, false},
		{"GET 408 and 425 are transient", "GET", "", nil, []step{status(408), status(425), status(200)}, 3, 200, nil, false},
		{"GET 400 final", "GET", "", nil, []step{status(400)}, 1, 400, nil, false},
		{"GET 401 final", "GET", "", nil, []step{status(401)}, 1, 401, nil, false},
		{"GET 403 final", "GET", "", nil, []step{status(403)}, 1, 403, nil, false},
		{"GET 403 with Retry-After is a rate limit", "GET", "", nil, []step{retryAfter(403, "2"), status(200)}, 2, 200, nil, false},
		{"GET 403 with X-RateLimit-Remaining: 0 is a rate limit", "GET", "", nil,
			[]step{{status: 403, header: http.Header{"X-Ratelimit-Remaining": {"0"}}}, status(200)}, 2, 200, nil, false},
		{"POST without key, rate-limiting 403: once", "POST", "data", nil, []step{{status: 403, body: "Forbidden", header: http.Header{"Retry-After": {"2"}}}, status(200)}, 1, 403, nil, false},
		{"GET 404 final", "GET", "", nil, []step{status(404)}, 1, 404, nil, false},
		{"GET 409 final", "GET", "", nil, []step{status(409)}, 1, 409, nil, false},
		{"GET 501 fatal", "GET", "", nil, []step{status(501)}, 1, 501, nil, false},
		{"GET 429 without Retry-After backs off", "GET", "", nil, []step{status(429), status(200)}, 2, 200, nil, false},
		{"PUT 503,200", "PUT", "data", nil, []step{status(503), status(200)}, 2, 200, nil, false},
		{"DELETE 503,200", "DELETE", "", nil, []step{status(503), status(200)}, 2, 200, nil, false},
		{"POST without key 503: once", "POST", "data", nil, []step{status(503), status(200)}, 1, 503, nil, false},
		{"PATCH without key 503: once", "PATCH", "data", nil, []step{status(503), status(200)}, 1, 503, nil, false},
		{"POST with key 503,200", "POST", "data", key, []step{status(503), status(200)}, 2, 200, nil, false},
		{"POST without key, never sent", "POST", "data", nil, []step{{err: errDial}, status(200)}, 2, 200, nil, false},
		{"POST without key, reset: once", "POST", "data", nil, []step{{err: errReset}, status(200)}, 1, 0, syscall.ECONNRESET, false},
		{"GET reset exhausted", "GET", "", nil, []step{{err: errReset}}, 3, 0, syscall.ECONNRESET, true},
		{"GET reset then 200", "GET", "", nil, []step{{err: errReset}, status(200)}, 2, 200, nil, false},
		{"GET fatal error: once", "GET", "", nil, []step{{err: errors.New("unsupported protocol scheme \"ftp\"")}}, 1, 0, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(tc.steps...)
				rt := New(Config{}).Wrap(s)
				resp, err := rt.RoundTrip(newReq(t, t.Context(), tc.method, tc.body, tc.hdr...))
				assert.Equal(t, tc.calls, s.Calls(), "upstream calls")
				if tc.status == 0 {
					require.Error(t, err)
					assert.Nil(t, resp)
					if tc.wantErr != nil {
						assert.ErrorIs(t, err, tc.wantErr)
					}
					var re *Error
					assert.Equal(t, tc.wrapped, errors.As(err, &re), "wrapped in *Error: %v", err)
				} else {
					require.NoError(t, err)
					assert.Equal(t, tc.status, resp.StatusCode)
					assert.Equal(t, http.StatusText(tc.status), readBody(t, resp), "the returned body is readable")
				}
				assert.Zero(t, s.tr.Open(), "every response body was closed")
				for i, b := range s.Bodies() {
					assert.Equal(t, tc.body, b, "attempt %d got the whole body", i+1)
				}
			})
		})
	}
}

func TestExhaustedTransportErrorSaysAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(step{err: errReset})
		r := New(Config{MaxAttempts: 4})
		_, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		var re *Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 4, re.Attempts)
		assert.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Contains(t, err.Error(), "retry: gave up after 4 attempts: ")
		assert.Equal(t, Stats{Requests: 1, Retries: 3, Exhausted: 1}, r.Stats())
	})
}

// The last discarded bodies are drained and closed before the wait, and
// the one returned is intact.
func TestDiscardedResponsesClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		big := strings.Repeat("e", 1000)
		s := newScript(step{status: 503, body: big})
		var open []int
		r := New(quiet(Config{OnRetry: func(RetryInfo) { open = append(open, 0) }}))
		resp, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		assert.Equal(t, 3, s.tr.Made())
		assert.Equal(t, 1, s.tr.Open(), "only the returned body is open")
		assert.Equal(t, big, readBody(t, resp))
		assert.Zero(t, s.tr.Open())
	})
}

func TestAttemptFromContext(t *testing.T) {
	assert.Zero(t, AttemptFrom(context.Background()), "0 outside a retry stage")
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), status(503), status(200))
		resp, err := New(Config{}).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, []int{1, 2, 3}, s.attemptNumbers())
	})
}

func TestCallerRequestNotMutated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), status(200))
		req := newReq(t, t.Context(), "PUT", "payload")
		body, getBody, ctx := req.Body, req.GetBody, req.Context()
		resp, err := New(Config{}).Wrap(s).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, body, req.Body)
		assert.Equal(t, ctx, req.Context())
		assert.NotNil(t, getBody)
		assert.Empty(t, req.Header)
		assert.Equal(t, []string{"payload", "payload"}, s.Bodies())
	})
}

// A body without GetBody on a replayable request is copied once and every
// attempt gets all of it; the caller's body is closed once.
func TestBodyWithoutGetBodyIsBuffered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), status(503), status(200))
		fr := &closeCount{r: strings.NewReader("abcdef")}
		req, _ := http.NewRequestWithContext(t.Context(), "PUT", "http://x/", fr)
		resp, err := New(Config{}).Wrap(s).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, []string{"abcdef", "abcdef", "abcdef"}, s.Bodies())
		assert.Equal(t, 1, fr.closes)
		assert.Nil(t, req.GetBody, "the caller's request is not given a GetBody")
	})
}

// Above MaxBufferedBody the body is sent once, whole, and not retried.
func TestLargeBodyWithoutGetBodySentOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), status(200))
		payload := strings.Repeat("z", 100)
		req, _ := http.NewRequestWithContext(t.Context(), "PUT", "http://x/", testkit.OnlyReader(strings.NewReader(payload)))
		resp, err := New(Config{MaxBufferedBody: 10}).Wrap(s).RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode)
		resp.Body.Close()
		assert.Equal(t, []string{payload}, s.Bodies())
	})
}

// A POST without a key and without GetBody is not copied (it would only be
// retried after a never-sent failure), so it is sent once.
func TestNonReplayableBodyNotBuffered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(step{err: errDial}, status(200))
		fr := &closeCount{r: strings.NewReader("abc")}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://x/", fr)
		_, err := New(Config{}).Wrap(s).RoundTrip(req)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Equal(t, 1, s.Calls())
		assert.Equal(t, 1, fr.closes)
		assert.Equal(t, []string{"abc"}, s.Bodies())
	})
}

func TestBodyReadFailureSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(200))
		fr := &testkit.FailingReader{N: 5}
		req, _ := http.NewRequestWithContext(t.Context(), "PUT", "http://x/", fr)
		resp, err := New(Config{}).Wrap(s).RoundTrip(req)
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, httpx.ErrBodyRead)
		assert.ErrorIs(t, err, testkit.ErrRead)
		assert.Zero(t, s.Calls())
		assert.True(t, fr.Closed())
	})
}

func TestMaxAttemptsOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), status(200))
		r := New(Config{MaxAttempts: 1})
		resp, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode)
		resp.Body.Close()
		assert.Equal(t, 1, s.Calls())
		assert.Equal(t, []int{1}, s.attemptNumbers(), "even a lone attempt is marked")
		assert.Equal(t, Stats{Requests: 1, Exhausted: 1}, r.Stats())
	})
}

func TestWrapNilUsesDefaultTransport(t *testing.T) {
	rt := New(Config{}).Wrap(nil).(*transport)
	assert.Equal(t, http.DefaultTransport, rt.next)
}

func TestConcurrentRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503), status(200))
		s.Respond = func(n int, req *http.Request) (*http.Response, error) {
			if AttemptFrom(req.Context()) == 1 {
				return testkit.Respond(req, 503, "no", s.tr), nil
			}
			return testkit.Respond(req, 200, "ok", s.tr), nil
		}
		r := New(Config{Budget: budget.New(budget.Config{Ratio: 1, MaxTokens: 1000})})
		rt := r.Wrap(s)
		var wg sync.WaitGroup
		const n = 50
		codes := make([]int, n)
		for i := range n {
			wg.Go(func() {
				resp, err := rt.RoundTrip(newReq(t, context.Background(), "GET", ""))
				if err == nil {
					codes[i] = resp.StatusCode
					httpx.Drain(resp, nil)
				}
			})
		}
		wg.Wait()
		for i, c := range codes {
			assert.Equal(t, 200, c, "request %d", i)
		}
		assert.Equal(t, 2*n, s.Calls())
		assert.Equal(t, Stats{Requests: n, Retries: n}, r.Stats())
		assert.Zero(t, s.tr.Open())
	})
}

func TestBudgetDenied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Ratio and floor so small no retry is ever granted.
		b := budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9})
		s := newScript(status(503), status(200))
		r := New(Config{Budget: b})
		resp, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, "Service Unavailable", readBody(t, resp), "the last outcome, intact")
		assert.Equal(t, 1, s.Calls())
		assert.Equal(t, Stats{Requests: 1, BudgetDenied: 1}, r.Stats())
		assert.Equal(t, budget.Stats{Deposits: 1, Denied: 1, Failures: 1}, b.Stats())

		_, err = r.Wrap(newScript(step{err: errReset})).RoundTrip(newReq(t, t.Context(), "GET", ""))
		var re *Error
		require.ErrorAs(t, err, &re, "a transport error given up on is wrapped")
		assert.Equal(t, 1, re.Attempts)
	})
}

// A budget shared with an enclosing stage is deposited once per caller
// request; a private one always.
func TestBudgetDepositOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := budget.New(budget.Config{})
		rt := New(Config{Budget: b}).Wrap(newScript(status(200)))
		marks := attempt.Marks(1, attempt.Mark{Budget: b})
		ctx := attempt.WithHedge(t.Context(), &marks[0])
		resp, err := rt.RoundTrip(newReq(t, ctx, "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Zero(t, b.Stats().Deposits, "the enclosing stage already charged it")

		resp, err = rt.RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.EqualValues(t, 1, b.Stats().Deposits)

		// Two nested retry stages sharing the budget: one deposit.
		inner := New(Config{Budget: b}).Wrap(newScript(status(200)))
		outer := New(Config{Budget: b}).Wrap(inner)
		resp, err = outer.RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.EqualValues(t, 2, b.Stats().Deposits)
	})
}

// Withdraw is asked only when a retry will really be sent.
func TestBudgetNotSpentOnStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := budget.New(budget.Config{})
		s := newScript(retryAfter(503, "3600"))
		resp, err := New(Config{Budget: b}).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, budget.Stats{Deposits: 1, Failures: 1}, b.Stats())
	})
}

type closeCount struct {
	r      io.Reader
	closes int
}

func (c *closeCount) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *closeCount) Close() error               { c.closes++; return nil }

var _ idempotency.Classifier = idempotency.Default
