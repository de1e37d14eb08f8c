package faulttest_test

// Regressions for bugs an independent review found in the stages (attempt
// timeouts and the breaker, eviction mid-probe, nil URLs, SLO overflow).

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

func TestAttemptTimeoutsOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			<-req.Context().Done()
			return nil, context_cause(req)
		}}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 3})
		p := pipeline.NewWithBase(stub, retry.New(retry.Config{MaxAttempts: 3, AttemptTimeout: time.Second}), b)
		for range 3 {
			req, _ := http.NewRequest("GET", "http://x.test/", nil)
			p.RoundTrip(req)
		}
		if st := b.StateOf("http://x.test:80"); st != breaker.Open {
			t.Errorf("after %d attempt timeouts the breaker is %v: %+v", stub.Calls(), st, b.Snapshot())
		}
	})
}

func context_cause(req *http.Request) error { return contextCause(req) }

// A half-open key whose single probe is still in flight is evicted when new
// keys arrive; the next request to the sick host is then let through as if
// the host were healthy, bypassing the one-probe limit.
func TestHalfOpenProbeInFlightEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var sentToA int
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if req.URL.Host == "a.test" {
				sentToA++
				if sentToA > 2 { // the probe and anything after it hang
					<-release
				}
				return testkit.Respond(req, 503, "", nil), nil
			}
			return testkit.Respond(req, 200, "", nil), nil
		}}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, MaxKeys: 2, OpenTimeout: time.Second})
		rt := b.Wrap(stub)
		get := func(host string) error {
			req, _ := http.NewRequest("GET", "http://"+host+"/", nil)
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
		get("a.test")
		get("a.test") // opens
		if st := b.StateOf("http://a.test:80"); st != breaker.Open {
			t.Fatalf("state %v", st)
		}
		time.Sleep(2 * time.Second)
		go get("a.test") // the half-open probe, hangs
		synctest.Wait()
		time.Sleep(1500 * time.Millisecond) // b and c are used more recently than a
		get("b.test")
		get("c.test") // MaxKeys 2: evicts the least recently used evictable key
		// A second request to a.test while its probe is in flight must be refused.
		done := make(chan error, 1)
		go func() { done <- get("a.test") }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Logf("second request during probe: %v", err)
		default:
			t.Errorf("second request to a half-open host was sent (the key was evicted mid-probe); sent to a: %d", sentToA)
		}
		close(release)
		synctest.Wait()
	})
}

// contextCause is what net/http's Transport returns for a canceled request.
func contextCause(req *http.Request) error { return context.Cause(req.Context()) }

func TestNilURL(t *testing.T) {
	for name, rt := range map[string]http.RoundTripper{
		"hedge":   hedge.New(hedge.Config{}).Wrap(http.DefaultTransport),
		"retry":   retry.New(retry.Config{}).Wrap(http.DefaultTransport),
		"breaker": breaker.New(breaker.Config{}).Wrap(http.DefaultTransport),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("panic: %v", p)
				}
			}()
			_, err := rt.RoundTrip(&http.Request{Method: "GET", Header: http.Header{}})
			t.Logf("err: %v", err)
		})
	}
}

func TestRetryWithAttemptTimeoutRetriesResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset by peer")
		}}
		for _, to := range []time.Duration{0, time.Second} {
			stub2 := &testkit.Stub{Respond: stub.Respond}
			rt := retry.New(retry.Config{AttemptTimeout: to}).Wrap(stub2)
			req, _ := http.NewRequest("GET", "http://x.test/", nil)
			_, err := rt.RoundTrip(req)
			if stub2.Calls() != 3 {
				t.Errorf("AttemptTimeout %v: %d attempts, want 3 (err %v)", to, stub2.Calls(), err)
			}
		}
	})
}

func TestSLOHuge(t *testing.T) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("SLO(MaxInt64, 1) panicked: %v", p)
		}
	}()
	t.Log(hedge.SLO(time.Duration(math.MaxInt64), 1))
}
