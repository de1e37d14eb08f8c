package breaker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// statusStub answers every request with the status in *status, or with err
// when that is non-nil, after sleeping *delay (honouring the context).
type statusStub struct {
	testkit.Stub
	status atomic.Int64
	delay  atomic.Int64
	err    atomic.Pointer[error]
}

func newStatusStub(status int) *statusStub {
	s := &statusStub{}
	s.status.Store(int64(status))
	s.Respond = func(_ int, req *http.Request) (*http.Response, error) {
		if d := time.Duration(s.delay.Load()); d > 0 {
			if err := testkit.Sleep(req.Context(), d); err != nil {
				return nil, err
			}
		}
		if p := s.err.Load(); p != nil {
			return nil, *p
		}
		return testkit.Respond(req, int(s.status.Load()), "", nil), nil
	}
	return s
}

func (s *statusStub) fail(err error) { s.err.Store(&err) }

// send does a GET of url through rt and returns the status, or the error.
func send(ctx context.Context, rt http.RoundTripper, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

const hostA = "http://a.test:80"

// TestConsecutiveFailures walks one key through the consecutive rule: a
// success or a final 4xx resets the run; the third failure in a row opens
// the breaker; while open nothing is sent; after OpenTimeout one probe is.
func TestConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(200)
		b := New(Config{ConsecutiveFailures: 3, FailureRatio: -1, OpenTimeout: 5 * time.Second})
		rt := b.Wrap(stub)
		steps := []struct {
			sleep  time.Duration
			status int
			sent   bool // the stub saw the request
			want   State
		}{
			{0, 500, true, Closed},
			{0, 503, true, Closed},
			{0, 404, true, Closed}, // final: the upstream answered; resets the run
			{0, 500, true, Closed},
			{0, 502, true, Closed},
			{0, 200, true, Closed}, // success resets the run
			{0, 500, true, Closed},
			{0, 500, true, Closed},
			{0, 504, true, Open}, // third in a row
			{0, 200, false, Open},
			{4 * time.Second, 200, false, Open},
			{time.Second, 200, false, Open},                      // exactly OpenTimeout: still open
			{time.Nanosecond, 500, true, Open},                   // the probe fails: open again
			{5*time.Second + time.Nanosecond, 200, true, Closed}, // the probe succeeds
			{0, 200, true, Closed},
		}
		for i, s := range steps {
			time.Sleep(s.sleep)
			stub.status.Store(int64(s.status))
			before := stub.Calls()
			status, err := send(t.Context(), rt, "http://a.test/")
			sent := stub.Calls() > before
			if sent != s.sent {
				t.Fatalf("step %d: sent %v, want %v", i, sent, s.sent)
			}
			if sent && (err != nil || status != s.status) {
				t.Fatalf("step %d: got %d, %v; want %d", i, status, err, s.status)
			}
			if !sent && !errors.Is(err, ErrOpen) {
				t.Fatalf("step %d: got %v, want ErrOpen", i, err)
			}
			if got := b.StateOf(hostA); got != s.want {
				t.Fatalf("step %d: state %v, want %v", i, got, s.want)
			}
		}
	})
}

// TestFailureRatio walks the ratio rule: it needs MinRequests settled
// outcomes, and outcomes older than Window no longer count.
func TestFailureRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(200)
		b := New(Config{ConsecutiveFailures: -1, FailureRatio: 0.5, MinRequests: 4, Window: 10 * time.Second})
		rt := b.Wrap(stub)
		steps := []struct {
			sleep  time.Duration
			status int
			want   State
		}{
			// Three failures of three: too few to judge.
			{0, 500, Closed}, {0, 500, Closed}, {0, 500, Closed},
			// They all leave the window.
			{10 * time.Second, 200, Closed},
			{0, 200, Closed}, {0, 200, Closed}, {0, 500, Closed}, // 1 of 4
			{0, 500, Closed}, // 2 of 5
			{0, 500, Open},   // 3 of 6 = 0.5
		}
		for i, s := range steps {
			time.Sleep(s.sleep)
			stub.status.Store(int64(s.status))
			if _, err := send(t.Context(), rt, "http://a.test/"); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if got := b.StateOf(hostA); got != s.want {
				t.Fatalf("step %d: state %v, want %v (counts %+v)", i, got, s.want, b.Snapshot())
			}
		}
	})
}

// TestRefusal checks the open path: no I/O, the body closed, one shared
// *OpenError per open period telling when to come back.
func TestRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(500)
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: 5 * time.Second})
		rt := b.Wrap(stub)
		send(t.Context(), rt, "http://a.test/")
		time.Sleep(2 * time.Second)

		body := &testkit.FailingReader{N: 10}
		req, _ := http.NewRequest(http.MethodPost, "http://a.test/", body)
		resp, err := rt.RoundTrip(req)
		if resp != nil || !errors.Is(err, ErrOpen) {
			t.Fatalf("got %v, %v; want nil, ErrOpen", resp, err)
		}
		if !body.Closed() {
			t.Error("the request body of a refused request was not closed")
		}
		if stub.Calls() != 1 {
			t.Errorf("stub saw %d requests, want 1", stub.Calls())
		}
		var oe *OpenError
		if !errors.As(err, &oe) || oe.Key != hostA || oe.State != Open || oe.RetryAfter() != 3*time.Second+time.Nanosecond {
			t.Errorf("OpenError %+v, RetryAfter %v; want key %s, open, 3s+1ns (the first admitted instant)", oe, oe.RetryAfter(), hostA)
		}
		_, err2 := send(t.Context(), rt, "http://a.test/other")
		if err2 != err {
			t.Error("refusals in one open period must share one error value")
		}
		if !strings.Contains(err.Error(), "next probe in 3s") {
			t.Errorf("message %q", err.Error())
		}
	})
}

// TestKeysIsolated: one failing host never blocks another.
func TestKeysIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(200)
		stub.Respond = func(_ int, req *http.Request) (*http.Response, error) {
			if req.URL.Host == "sick.test" {
				return testkit.Respond(req, 503, "", nil), nil
			}
			return testkit.Respond(req, 200, "", nil), nil
		}
		b := New(Config{})
		rt := b.Wrap(stub)
		for range DefaultConsecutiveFailures {
			send(t.Context(), rt, "http://sick.test/")
		}
		if _, err := send(t.Context(), rt, "http://sick.test/"); !errors.Is(err, ErrOpen) {
			t.Fatalf("sick host: %v, want ErrOpen", err)
		}
		// Another host, and the same host name on another scheme or port,
		// are other keys: they are still sent.
		for _, u := range []string{"http://ok.test/", "https://sick.test/", "http://sick.test:8080/"} {
			if _, err := send(t.Context(), rt, u); err != nil {
				t.Errorf("%s: %v; want it sent", u, err)
			}
		}
		got := b.Snapshot()
		want := []string{"http://ok.test:80 closed", "http://sick.test:80 open", "http://sick.test:8080 closed", "https://sick.test:443 closed"}
		if len(got) != len(want) {
			t.Fatalf("snapshot %+v", got)
		}
		for i, s := range got {
			if s.Key+" "+s.State.String() != want[i] {
				t.Errorf("snapshot[%d] = %s %v, want %s", i, s.Key, s.State, want[i])
			}
		}
	})
}

// TestHalfOpenProbeLimit: of 64 concurrent callers in the half-open state,
// exactly HalfOpenProbes are sent; the rest are refused as busy.
func TestHalfOpenProbeLimit(t *testing.T) {
	for _, probes := range []int{1, 3} {
		for _, probeStatus := range []int{200, 500} {
			synctest.Test(t, func(t *testing.T) {
				stub := newStatusStub(500)
				b := New(Config{ConsecutiveFailures: 1, HalfOpenProbes: probes, OpenTimeout: time.Second})
				rt := b.Wrap(stub)
				send(t.Context(), rt, "http://a.test/")
				time.Sleep(time.Second + time.Nanosecond)

				stub.status.Store(int64(probeStatus))
				stub.delay.Store(int64(time.Second))
				var sent, busy atomic.Int64
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						_, err := send(context.Background(), rt, "http://a.test/")
						var oe *OpenError
						switch {
						case err == nil:
							sent.Add(1)
						case errors.As(err, &oe) && oe.State == HalfOpen && oe.RetryAfter() == 0:
							busy.Add(1)
						}
					})
				}
				synctest.Wait() // the probes are in the stub, the rest refused
				if n := stub.Calls() - 1; n != probes {
					t.Errorf("probes=%d: %d requests reached the upstream, want %d", probes, n, probes)
				}
				if busy.Load() != int64(64-probes) {
					t.Errorf("probes=%d: %d refused as busy, want %d", probes, busy.Load(), 64-probes)
				}
				wg.Wait()
				want := Closed // all probes succeeded
				if probeStatus == 500 {
					want = Open // one failed probe re-opens
				}
				if got := b.StateOf(hostA); got != want {
					t.Errorf("probes=%d status=%d: state %v, want %v", probes, probeStatus, got, want)
				}
			})
		}
	}
}

// TestPanicReleasesProbe: a transport that panics during a probe must not
// hold the probe slot forever.
func TestPanicReleasesProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(500)
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		rt := b.Wrap(stub)
		send(t.Context(), rt, "http://a.test/")
		time.Sleep(2 * time.Second)
		panicking := b.Wrap(testkit.RoundTripFunc(func(*http.Request) (*http.Response, error) { panic("boom") }))
		func() {
			defer func() {
				if recover() != "boom" {
					t.Error("the panic did not propagate")
				}
			}()
			send(t.Context(), panicking, "http://a.test/")
		}()
		stub.status.Store(200)
		if status, err := send(t.Context(), rt, "http://a.test/"); err != nil || status != 200 {
			t.Fatalf("probe after panic: %d, %v", status, err)
		}
		if got := b.StateOf(hostA); got != Closed {
			t.Errorf("state %v, want closed", got)
		}
	})
}

func TestNilURLPassesThrough(t *testing.T) {
	called := false
	rt := New(Config{}).Wrap(testkit.RoundTripFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("http: nil Request.URL")
	}))
	if _, err := rt.RoundTrip(&http.Request{}); err == nil || !called {
		t.Errorf("err %v, called %v", err, called)
	}
}

func TestWrapNilUsesDefaultTransport(t *testing.T) {
	if tr := New(Config{}).Wrap(nil).(*transport); tr.next != http.DefaultTransport {
		t.Errorf("next = %v", tr.next)
	}
}

// A caller that waits exactly RetryAfter, as the retry stage does, must be
// admitted as the probe: gobreaker admits only once its expiry is strictly
// past, and a fake clock lands on the boundary exactly.
func TestWaitingExactlyRetryAfterIsAdmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(http.StatusServiceUnavailable)
		rt := New(Config{ConsecutiveFailures: 1, OpenTimeout: 2 * time.Second}).Wrap(stub)
		if _, err := send(t.Context(), rt, "http://a.test/"); err != nil {
			t.Fatal(err)
		}
		_, err := send(t.Context(), rt, "http://a.test/")
		var oe *OpenError
		if !errors.As(err, &oe) {
			t.Fatalf("got %v, want an *OpenError", err)
		}
		time.Sleep(oe.RetryAfter())
		stub.status.Store(http.StatusOK)
		if code, err := send(t.Context(), rt, "http://a.test/"); err != nil || code != http.StatusOK {
			t.Fatalf("after waiting RetryAfter: %d, %v; want the probe admitted", code, err)
		}
	})
}
