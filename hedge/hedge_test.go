package hedge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
)

// slowStub answers every attempt after d with 200, recording nothing else.
func slowStub(d time.Duration) *testkit.Stub {
	return &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
		return after(req, d, 200, nil)
	}}
}

// Requests that must not be sent twice pass straight through: one call, no
// mark in their context, the caller's request itself.
func TestPassThrough(t *testing.T) {
	big := strings.Repeat("b", httpx.DefaultMaxBufferedBody+1)
	tests := []struct {
		name     string
		req      func() *http.Request
		skip     bool
		wantStat Stats
		wantBody string
	}{
		{"POST without Idempotency-Key", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://upstream.test/", strings.NewReader("charge"))
			return r
		}, false, Stats{Requests: 1, PassThrough: 1}, "charge"},
		{"POST without key and without GetBody is not buffered", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://upstream.test/", testkit.OnlyReader(strings.NewReader("charge")))
			return r
		}, false, Stats{Requests: 1, PassThrough: 1}, "charge"},
		{"body above the buffering limit", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPut, "http://upstream.test/", testkit.OnlyReader(strings.NewReader(big)))
			return r
		}, false, Stats{Requests: 1, PassThrough: 1}, big},
		// Issue 11, bug 2: round 1 hedged upgrades and drained the
		// losing 101's connection, a read that never ends.
		{"Upgrade", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "http://upstream.test/", http.NoBody)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			return r
		}, false, Stats{Requests: 1, PassThrough: 1}, ""},
		{"Skip", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPut, "http://upstream.test/", strings.NewReader("skip me"))
			return r
		}, true, Stats{Requests: 1, Skipped: 1}, "skip me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				req := tt.req()
				var sawMark atomic.Bool
				stub := &testkit.Stub{Respond: func(n int, r *http.Request) (*http.Response, error) {
					sawMark.Store(CopyFrom(r.Context()) != 0)
					return after(r, time.Second, 200, nil)
				}}
				h := New(Config{Delay: time.Millisecond, Skip: func(*http.Request) bool { return tt.skip }})
				resp, err := h.Wrap(stub).RoundTrip(req)
				require.NoError(t, err)
				readAll(t, resp)
				assert.Equal(t, 1, stub.Calls())
				assert.False(t, sawMark.Load())
				assert.Equal(t, tt.wantStat, h.Stats())
				assert.Equal(t, []string{tt.wantBody}, stub.Bodies(), "sent once, whole")
			})
		})
	}
}

// A small body without GetBody, on a request that may be hedged, is
// buffered so that every attempt sends it whole.
func TestSmallBodyWithoutGetBodyIsBufferedAndHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, "http://upstream.test/", testkit.OnlyReader(strings.NewReader("doc")))
		stub := slowStub(10 * time.Millisecond)
		resp, err := New(Config{Delay: time.Millisecond, MaxHedges: 2}).Wrap(stub).RoundTrip(req)
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()
		assert.Equal(t, []string{"doc", "doc", "doc"}, stub.Bodies())
	})
}

// A POST with an Idempotency-Key is hedged.
func TestPostWithIdempotencyKeyIsHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "http://upstream.test/", strings.NewReader("order"))
		req.Header.Set("Idempotency-Key", "k1")
		stub := slowStub(10 * time.Millisecond)
		h := New(Config{Delay: time.Millisecond})
		resp, err := h.Wrap(stub).RoundTrip(req)
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()
		assert.Equal(t, []string{"order", "order"}, stub.Bodies())
		assert.Equal(t, uint64(1), h.Stats().Hedges)
	})
}

// A body that fails while being buffered is closed and nothing is sent.
func TestBodyReadErrorSendsNothing(t *testing.T) {
	fr := &testkit.FailingReader{N: 3}
	req, _ := http.NewRequest(http.MethodPut, "http://upstream.test/", fr)
	stub := slowStub(0)
	resp, err := New(Config{}).Wrap(stub).RoundTrip(req)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, httpx.ErrBodyRead)
	assert.ErrorContains(t, err, "hedge: ")
	assert.True(t, fr.Closed())
	assert.Zero(t, stub.Calls())
}

// A budget that refuses the hedge: it is not sent, and it is counted.
func TestBudgetDenial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Ratio 1e-9 and floor 1e-9/s over 1 s: effectively no extras.
		b := budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9, Window: time.Second})
		var hooks atomic.Int64
		stub := slowStub(50 * time.Millisecond)
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 3, Budget: b, OnHedge: func(HedgeInfo) { hooks.Add(1) }})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, 1, stub.Calls())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, OriginalWins: 1, BudgetDenied: 1}, h.Stats(), "denied once: hedging stops")
		assert.Equal(t, budget.Stats{Deposits: 1, Denied: 1, Successes: 1}, b.Stats())
		assert.Zero(t, hooks.Load())
	})
}

// A hedge stage deposits once per caller request, and not when an outer
// stage already charged the same budget.
func TestBudgetDepositOncePerRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := budget.New(budget.Config{})
		outer := New(Config{Delay: time.Second, Budget: b})
		inner := New(Config{Delay: time.Second, Budget: b})
		rt := pipeline.NewWithBase(slowStub(time.Millisecond), outer, inner)
		for range 3 {
			resp, err := rt.RoundTrip(newGet(t))
			require.NoError(t, err)
			readAll(t, resp)
		}
		assert.Equal(t, uint64(3), b.Stats().Deposits)
	})
}

func TestWrapNilIsDefaultTransport(t *testing.T) {
	tr := New(Config{}).Wrap(nil).(*transport)
	assert.Same(t, http.DefaultTransport, tr.next)
}

type idleCloser struct {
	http.RoundTripper
	closed bool
}

func (c *idleCloser) CloseIdleConnections() { c.closed = true }

func TestCloseIdleConnectionsReachesNext(t *testing.T) {
	next := &idleCloser{}
	client := &http.Client{Transport: New(Config{}).Wrap(next)}
	client.CloseIdleConnections()
	assert.True(t, next.closed)
}

// A hedge whose GetBody fails is a failed attempt, not a crash.
func TestGetBodyFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, "http://upstream.test/", bytes.NewReader([]byte("x")))
		calls := 0
		req.GetBody = func() (io.ReadCloser, error) {
			calls++
			return nil, errors.New("gone")
		}
		resp, err := New(Config{Delay: time.Millisecond}).Wrap(slowStub(10 * time.Millisecond)).RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		readAll(t, resp)
		assert.Equal(t, 1, calls)
	})
}
