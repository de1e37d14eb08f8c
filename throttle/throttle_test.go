package throttle

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// TestRoundTripContract: an admitted request reaches the next transport as
// it is, and its response comes back untouched, body unread and open.
func TestRoundTripContract(t *testing.T) {
	var seen *http.Request
	body := &testkit.Tracker{}
	next := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		seen = req
		resp := testkit.Respond(req, 429, "body", body)
		resp.Header.Set("X-Custom", "1")
		return resp, nil
	})
	req, _ := http.NewRequest(http.MethodPut, "http://a.test/x", strings.NewReader("payload"))
	req.Header.Set("Idempotency-Key", "k")
	resp, err := New(Config{}).Wrap(next).RoundTrip(req)
	require.NoError(t, err)
	assert.Same(t, req, seen, "the very request: the throttle never clones or mutates it")
	assert.Equal(t, "k", req.Header.Get("Idempotency-Key"))
	assert.Equal(t, 429, resp.StatusCode, "a 429 is returned, never retried")
	assert.Equal(t, "1", resp.Header.Get("X-Custom"))
	assert.Equal(t, 1, body.Open(), "the body is the caller's to read and close")
	resp.Body.Close()
}

func TestNilNextAndMalformedRequests(t *testing.T) {
	rt := New(Config{}).Wrap(nil)
	_, err := rt.RoundTrip(&http.Request{Method: http.MethodGet})
	assert.Error(t, err, "net/http reports the nil URL; the throttle does not crash on it")
	assert.NotErrorIs(t, err, ErrThrottled)
}

// TestPanicInNextTransport: a panic below the throttle reaches the caller,
// and the probe and the slot it held are released, so the host's gate does
// not stay shut forever.
func TestPanicInNextTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		n := 0
		next := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			n++
			k := n
			mu.Unlock()
			switch k {
			case 1:
				return reply(req, nil, 429, "Retry-After", "1", "RateLimit-Policy", roomy), nil
			case 2:
				panic("boom")
			}
			return reply(req, nil, 200), nil
		})
		th := New(Config{MaxConcurrent: 1})
		rt := th.Wrap(next)
		send(context.Background(), rt, "http://a.test/")
		time.Sleep(time.Second)
		func() {
			defer func() { assert.Equal(t, "boom", recover()) }()
			send(context.Background(), rt, "http://a.test/") // the probe panics
		}()
		status, err := send(context.Background(), rt, "http://a.test/")
		assert.NoError(t, err)
		assert.Equal(t, 200, status, "the next request probes; the slot is free")
	})
}

type idleCloser struct {
	roundTripFunc
	closed bool
}

func (c *idleCloser) CloseIdleConnections() { c.closed = true }

func TestCloseIdleConnectionsReachesThrough(t *testing.T) {
	next := &idleCloser{}
	client := &http.Client{Transport: New(Config{}).Wrap(next)}
	client.CloseIdleConnections()
	assert.True(t, next.closed)
}

// TestLoopback runs the stage over a real server and transport: a 429
// with Retry-After closes the host's gate for the next request.
func TestLoopback(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: New(Config{}).Wrap(tr)}
	for range 2 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, times, 2)
	assert.GreaterOrEqual(t, times[1].Sub(times[0]), time.Second-50*time.Millisecond, "the gate held the second request")
}
