package faulttest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Bad input, through every arrangement. Expected outcomes:
//
//	input                                   expected (every arrangement)
//	nil body (GET)                          200; the server gets 1 request with an empty body
//	http.NoBody (POST with and without key) 200; the server gets 1 request with an empty body
//	body failing on Read (PUT, POST)        error matching testkit.ErrRead; the body is closed; no
//	                                        complete request reaches the server; nothing is retried
//	context canceled before the call        context.Canceled; nothing sent; the body is closed once;
//	                                        the breaker never opens (5 calls)
//	context canceled mid-flight (×4)        context.Canceled; the server's handler is released; the
//	                                        breaker never opens
//	nil response body (custom transport,    no panic; the response comes back with its status:
//	503 then 200)                           retry 200, breaker 503, hedge 200 (the hedge fires on
//	                                        the 503), every pipeline 200
func TestBadInput(t *testing.T) {
	for a := range numArrangements {
		t.Run(a.String(), func(t *testing.T) {
			t.Run("nil body", func(t *testing.T) { emptyBody(t, a, http.MethodGet, nil, "") })
			t.Run("NoBody POST", func(t *testing.T) { emptyBody(t, a, http.MethodPost, http.NoBody, "") })
			t.Run("NoBody POST+key", func(t *testing.T) { emptyBody(t, a, http.MethodPost, http.NoBody, "k") })
			t.Run("failing body PUT", func(t *testing.T) { failingBody(t, a, http.MethodPut) })
			t.Run("failing body POST", func(t *testing.T) { failingBody(t, a, http.MethodPost) })
			t.Run("canceled before", func(t *testing.T) { canceledBefore(t, a) })
			t.Run("canceled mid-flight", func(t *testing.T) { canceledMidFlight(t, a) })
			t.Run("nil response body", func(t *testing.T) { nilResponseBody(t, a) })
		})
	}
}

func emptyBody(t *testing.T, a arrangement, method string, body io.Reader, key string) {
	noLeaks(t)
	srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
	st := newStack(a, srv.Transport(t), matrixConfig())
	req, err := http.NewRequest(method, srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	o := do(t, st.rt, req, 5*time.Second)
	if o.err != nil || o.status != 200 || o.bodyErr != nil {
		t.Fatalf("got %v, want 200", o)
	}
	srv.WaitIdle(time.Second)
	recs := srv.Records()
	if len(recs) != 1 || recs[0].BodyBytes != 0 || recs[0].BodyErr != nil {
		t.Errorf("server records %+v, want one request with an empty body", recs)
	}
}

func failingBody(t *testing.T, a arrangement, method string) {
	noLeaks(t)
	srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
	st := newStack(a, srv.Transport(t), matrixConfig())
	body := &testkit.FailingReader{N: 100}
	req, err := http.NewRequest(method, srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	o := do(t, st.rt, req, 5*time.Second)
	if !errors.Is(o.err, testkit.ErrRead) {
		t.Errorf("got %v, want an error matching testkit.ErrRead", o)
	}
	if !body.Closed() {
		t.Error("the caller's body was not closed")
	}
	checkBodies(t, srv, nil) // a complete request would have an empty body: there must be none
	for _, r := range srv.Records() {
		if r.BodyErr == nil {
			t.Errorf("the server got a complete request (%d bytes) from a body that failed", r.BodyBytes)
		}
	}
	if n := len(srv.Records()); n > 1 {
		t.Errorf("a failing body was sent %d times", n)
	}
}

// closeCounter is a replayable request body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closes atomic.Int64
}

func (c *closeCounter) Close() error { c.closes.Add(1); return nil }

func canceledBefore(t *testing.T, a arrangement) {
	noLeaks(t)
	srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
	st := newStack(a, srv.Transport(t), matrixConfig())
	for i := range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		body := &closeCounter{Reader: strings.NewReader("payload")}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("payload")), nil }
		o := do(t, st.rt, req, 5*time.Second)
		if !errors.Is(o.err, context.Canceled) {
			t.Errorf("call %d: got %v, want context.Canceled", i, o)
		}
		if n := body.closes.Load(); n != 1 {
			t.Errorf("call %d: the caller's body was closed %d times, want once", i, n)
		}
	}
	if srv.Received() != 0 {
		t.Errorf("the server received %d requests with canceled contexts", srv.Received())
	}
	if a.has("breaker") && st.opens.Load() != 0 {
		t.Errorf("the breaker opened on canceled requests")
	}
}

func canceledMidFlight(t *testing.T, a arrangement) {
	noLeaks(t)
	srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultAlways(testkit.FaultOf(testkit.FaultBlackHole))})
	cfg := matrixConfig()
	cfg.retry.AttemptTimeout = 0 // the caller, not the stage, gives up
	st := newStack(a, srv.Transport(t), cfg)
	for i := range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		o := do(t, st.rt, req, 5*time.Second)
		cancel()
		if !errors.Is(o.err, context.Canceled) {
			t.Errorf("call %d: got %v, want context.Canceled", i, o)
		}
		if o.elapsed > time.Second {
			t.Errorf("call %d returned %v after its cancellation", i, o.elapsed)
		}
	}
	if !srv.WaitIdle(2 * time.Second) {
		t.Error("black-holed handlers were not released by the cancellations")
	}
	if a.has("breaker") && st.opens.Load() != 0 {
		t.Errorf("the breaker opened on canceled requests (or lost hedges)")
	}
}

func nilResponseBody(t *testing.T, a arrangement) {
	noLeaks(t)
	var calls atomic.Int64
	base := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		status := http.StatusOK
		if calls.Add(1) == 1 {
			status = http.StatusServiceUnavailable
		}
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{StatusCode: status, Header: make(http.Header), Request: req}, nil
	})
	st := newStack(a, base, matrixConfig())
	req, _ := http.NewRequest(http.MethodGet, "http://upstream.test/", nil)
	o := do(t, st.rt, req, 5*time.Second)
	want := map[arrangement]int{retryAlone: 200, breakerAlone: 503, hedgeAlone: 200,
		hedgeRetryBreaker: 200, retryHedgeBreaker: 200, hedgeRetryThrottleBreaker: 200}[a]
	if o.err != nil || o.status != want {
		t.Errorf("got %v, want %d", o, want)
	}
	if o.bodyErr != nil {
		t.Errorf("reading the (nil) body failed: %v", o.bodyErr)
	}
}
