package hedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// ctxLog records each attempt's context so a test can check that every
// attempt was canceled.
type ctxLog struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (l *ctxLog) add(ctx context.Context) {
	l.mu.Lock()
	l.ctxs = append(l.ctxs, ctx)
	l.mu.Unlock()
}

func (l *ctxLog) allCanceled(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, ctx := range l.ctxs {
		assert.Error(t, ctx.Err(), "attempt context %d not canceled", i+1)
	}
}

// roundTripPanic calls rt.RoundTrip(req) and returns the panic it raised on
// this goroutine, with the stack at that point.
func roundTripPanic(rt http.RoundTripper, req *http.Request) (p any, stack string) {
	defer func() {
		if p = recover(); p != nil {
			stack = string(debug.Stack())
		}
	}()
	resp, err := rt.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	return nil, ""
}

func panickingOriginalTransport(req *http.Request) (*http.Response, error) {
	testkit.Sleep(req.Context(), 5*time.Millisecond)
	panic("original transport bug")
}

// A panic in the original's transport settles the race: the timer is
// stopped (no hedge fires later for a request the caller saw fail), every
// attempt is canceled, OnComplete reports it, and the panic reaches the
// caller with the transport's frames still on the stack (issue 11, bug 4).
func TestPanicInOriginalStopsTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ctxs ctxLog
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			ctxs.add(req.Context())
			return panickingOriginalTransport(req)
		}}
		var hedges int
		var info CompleteInfo
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 3,
			OnHedge: func(HedgeInfo) { hedges++ }, OnComplete: func(i CompleteInfo) { info = i }})
		p, stack := roundTripPanic(h.Wrap(stub), newGet(t))
		assert.Equal(t, "original transport bug", p)
		assert.Contains(t, stack, "panickingOriginalTransport", "raised where it happened")
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, 1, stub.Calls(), "no hedge after the panic")
		assert.Zero(t, hedges)
		ctxs.allCanceled(t)
		assert.ErrorContains(t, info.Err, "attempt 1 panicked: original transport bug")
		assert.Equal(t, uint64(1), h.Stats().Failed)
	})
}

// A panic on a hedge's goroutine — in the transport, the classifier or
// OnHedge — is recovered there, settles the race, and is raised again on the
// caller's goroutine instead of killing the process. In round 1 it crashed
// the test binary.
func TestPanicOnHedgeGoroutineReachesCaller(t *testing.T) {
	for _, where := range []string{"transport", "classifier", "OnHedge"} {
		t.Run(where, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ctxs ctxLog
				var tr testkit.Tracker
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					ctxs.add(req.Context())
					if IsHedge(req.Context()) {
						if where == "transport" {
							panic("hedge bug")
						}
						return after(req, time.Millisecond, 418, &tr)
					}
					return after(req, time.Second, 200, &tr)
				}}
				cfg := Config{Delay: 10 * time.Millisecond, MaxHedges: 2}
				switch where {
				case "classifier":
					cfg.Classifier = panicky{}
				case "OnHedge":
					cfg.OnHedge = func(HedgeInfo) { panic("hedge bug") }
				}
				p, _ := roundTripPanic(New(cfg).Wrap(stub), newGet(t))
				assert.Equal(t, "hedge bug", p)
				synctest.Wait()
				ctxs.allCanceled(t)
				assert.Zero(t, tr.Open(), "every response closed")
				time.Sleep(time.Hour)
				synctest.Wait()
				sent := 2
				if where == "OnHedge" {
					sent = 1 // OnHedge runs before the hedge is handed to the transport
				}
				assert.Equal(t, sent, stub.Calls(), "no hedge after the panic")
			})
		})
	}
}

// panicky panics classifying a 418, and is the default otherwise.
type panicky struct{}

func (panicky) Replayable(req *http.Request) bool { return idempotency.Default.Replayable(req) }
func (panicky) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.StatusCode == 418 {
		panic("hedge bug")
	}
	return idempotency.Default.Classify(req, resp, err)
}

// Neither runtime.Goexit (t.FailNow in a test transport) on a hedge's
// goroutine nor one on the caller's leaves the race hanging.
func TestGoexitOnHedgeGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				runtime.Goexit()
			}
			return after(req, time.Second, 200, nil)
		}}
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t))
		assert.Nil(t, resp)
		assert.ErrorContains(t, err, "attempt 2's goroutine exited")
	})
}

// A hedge whose GetBody fails was never sent: it is not counted, not
// charged to the budget, not announced to OnHedge, and it ends hedging
// (the next would fail the same way) instead of firing the next hedge at
// once. Round 1 counted 3 hedges and 3 withdrawals with 0 on the wire
// (issue 11, bug 7).
func TestGetBodyFailureIsNotASentHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, "http://upstream.test/", strings.NewReader("x"))
		req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("gone") }
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return after(req, time.Millisecond, 503, nil)
		}}
		var fired int
		b := budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e9})
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 3, Budget: b, OnHedge: func(HedgeInfo) { fired++ }})
		resp, err := h.Wrap(stub).RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode, "the original's answer")
		readAll(t, resp)
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, 1, stub.Calls())
		assert.Zero(t, fired)
		assert.Zero(t, h.Stats().Hedges)
		assert.Zero(t, b.Stats().Withdrawals)
	})
}
