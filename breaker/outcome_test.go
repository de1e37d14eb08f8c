package breaker

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

func resp(status int, header ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// rejection is what an inner stage (another breaker, a budget) returns
// when it refuses an attempt.
type rejection struct{}

func (rejection) Error() string             { return "inner: refused" }
func (rejection) Rejected() bool            { return true }
func (rejection) RetryAfter() time.Duration { return 0 }

func TestJudge(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	cases := []struct {
		name      string
		resp      *http.Response
		err       error
		throttled bool // CountThrottled
		want      verdict
	}{
		{"200", resp(200), nil, false, success},
		{"304", resp(304), nil, false, success},
		{"404 final", resp(404), nil, false, success},
		{"409 final", resp(409), nil, false, success},
		{"408 transient", resp(408), nil, false, failure},
		{"500", resp(500), nil, false, failure},
		{"502", resp(502), nil, false, failure},
		{"503", resp(503), nil, false, failure},
		{"504", resp(504), nil, false, failure},
		{"501 fatal status: upstream answered", resp(501), nil, false, success},
		{"505 fatal status", resp(505), nil, false, success},
		{"429 excluded by default", resp(429), nil, false, excluded},
		{"429 counted", resp(429), nil, true, failure},
		{"503 Retry-After excluded", resp(503, "Retry-After", "3"), nil, false, excluded},
		{"503 Retry-After counted", resp(503, "Retry-After", "3"), nil, true, failure},
		{"503 Retry-After 0: no pause, a failure", resp(503, "Retry-After", "0"), nil, false, failure},
		{"503 Retry-After past: no pause, a failure", resp(503, "Retry-After", "Thu, 01 Jan 1970 00:00:00 GMT"), nil, false, failure},
		{"403 final: the upstream answered", resp(403), nil, false, success},
		{"403 Retry-After: a rate limit, excluded", resp(403, "Retry-After", "3"), nil, false, excluded},
		{"403 X-RateLimit-Remaining 0: a rate limit, excluded", resp(403, "X-RateLimit-Remaining", "0"), nil, false, excluded},
		{"403 rate limit counted", resp(403, "X-RateLimit-Remaining", "0"), nil, true, failure},
		{"connection refused", nil, refused, false, failure},
		{"connection reset", nil, reset, false, failure},
		{"deadline", nil, context.DeadlineExceeded, false, failure},
		{"TLS certificate", nil, x509.UnknownAuthorityError{}, false, failure},
		{"malformed request: the host was not asked", nil, errors.New(`net/http: invalid header field name "a b"`), false, excluded},
		{"unsupported scheme", nil, errors.New(`unsupported protocol scheme "ftp"`), false, excluded},
		{"canceled", nil, context.Canceled, false, excluded},
		{"inner rejection", nil, rejection{}, false, excluded},
		{"both nil", nil, nil, false, failure},
	}
	for _, tc := range cases {
		s := Config{CountThrottled: tc.throttled}.normalize()
		req, _ := http.NewRequest(http.MethodGet, "http://a/", nil)
		if got := s.judge(req, tc.resp, tc.err); got != tc.want {
			t.Errorf("%s: verdict %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A canceled request context excludes a would-be failure whatever the
// classifier says, since transports report cancellation with arbitrary
// errors ("use of closed network connection").
func TestJudgeCanceledContext(t *testing.T) {
	always := idempotency.WithStatus(nil, map[int]idempotency.Kind{200: idempotency.Success})
	transientAll := classifierFunc(func(*http.Request, *http.Response, error) idempotency.Outcome {
		return idempotency.Outcome{Kind: idempotency.Transient}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://a/", nil)
	closed := errors.New("use of closed network connection")
	for i, c := range []idempotency.Classifier{idempotency.Default, always, transientAll} {
		s := Config{Classifier: c}.normalize()
		if got := s.judge(req, nil, closed); got != excluded {
			t.Errorf("%T: canceled ctx gave %v, want excluded", c, got)
		}
		// A response that arrived is evidence even if the caller gave up
		// right after.
		if i < 2 {
			if got := s.judge(req, resp(200), nil); got != success {
				t.Errorf("%T: 200 with canceled ctx gave %v, want success", c, got)
			}
		}
	}
	// A deadline is not a cancellation.
	dctx, dcancel := context.WithTimeout(context.Background(), 0)
	defer dcancel()
	<-dctx.Done()
	req, _ = http.NewRequestWithContext(dctx, http.MethodGet, "http://a/", nil)
	s := Config{}.normalize()
	if got := s.judge(req, nil, dctx.Err()); got != failure {
		t.Errorf("deadline: %v, want failure", got)
	}
}

type classifierFunc func(*http.Request, *http.Response, error) idempotency.Outcome

func (classifierFunc) Replayable(*http.Request) bool { return true }
func (f classifierFunc) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	return f(req, resp, err)
}

func TestVerdictGobreakerErr(t *testing.T) {
	for v, want := range map[verdict][2]bool{success: {true, false}, failure: {false, false}, excluded: {false, true}} {
		err := v.gobreakerErr()
		if isSuccessful(err) != want[0] || isExcluded(err) != want[1] {
			t.Errorf("verdict %d: successful %v excluded %v", v, isSuccessful(err), isExcluded(err))
		}
	}
}

// TestCanceledCallsExcluded cancels 20 in-flight calls with a 3-failure
// threshold: the breaker must stay closed and count them as excluded.
func TestCanceledCallsExcluded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(200)
		stub.delay.Store(int64(time.Hour))
		b := New(Config{ConsecutiveFailures: 3})
		rt := b.Wrap(stub)
		ctx, cancel := context.WithCancel(t.Context())
		errs := make(chan error, 20)
		for range 20 {
			go func() { _, err := send(ctx, rt, "http://a.test/"); errs <- err }()
		}
		synctest.Wait()
		cancel()
		for range 20 {
			if err := <-errs; !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
		}
		st := b.Snapshot()
		if len(st) != 1 || st[0].State != Closed || st[0].Counts.Failures != 0 || st[0].Counts.Excluded != 20 {
			t.Fatalf("snapshot %+v; want closed, 0 failures, 20 excluded", st)
		}
	})
}

// TestCanceledProbe is failsafe-go's bug: a half-open probe canceled
// because a hedge won (or its caller left) must neither re-open the breaker
// nor keep the probe slot; a busy refusal of the hedge must not count.
func TestCanceledProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(500)
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		rt := b.Wrap(stub)
		send(t.Context(), rt, "http://a.test/")
		time.Sleep(2 * time.Second)

		stub.status.Store(200)
		stub.delay.Store(int64(time.Hour))
		ctx, cancel := context.WithCancel(t.Context())
		probe := make(chan error, 1)
		go func() { _, err := send(ctx, rt, "http://a.test/"); probe <- err }()
		synctest.Wait()
		// The hedge of the probe is refused: the slot is taken.
		if _, err := send(t.Context(), rt, "http://a.test/"); !errors.Is(err, ErrOpen) {
			t.Fatalf("hedge: %v, want ErrOpen", err)
		}
		cancel() // the probe loses
		if err := <-probe; !errors.Is(err, context.Canceled) {
			t.Fatalf("probe: %v", err)
		}
		if got := b.StateOf(hostA); got != HalfOpen {
			t.Fatalf("after a canceled probe: %v, want half-open", got)
		}
		stub.delay.Store(0)
		if status, err := send(t.Context(), rt, "http://a.test/"); err != nil || status != 200 {
			t.Fatalf("next probe: %d, %v; want it sent", status, err)
		}
		if got := b.StateOf(hostA); got != Closed {
			t.Fatalf("after a good probe: %v, want closed", got)
		}
	})
}

// TestExcludedOutcomes: inner rejections and throttles never open the
// breaker; a per-attempt timeout does.
func TestExcludedOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(429)
		b := New(Config{ConsecutiveFailures: 3})
		rt := b.Wrap(stub)
		for range 10 {
			send(t.Context(), rt, "http://a.test/")
		}
		stub.fail(rejection{})
		for range 10 {
			send(t.Context(), rt, "http://a.test/")
		}
		if st := b.Snapshot(); st[0].State != Closed || st[0].Counts.Excluded != 20 {
			t.Fatalf("%+v: want closed with 20 excluded", st)
		}

		stub.err.Store(nil)
		stub.status.Store(200)
		stub.delay.Store(int64(time.Minute))
		for range 3 {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			if _, err := send(ctx, rt, "http://a.test/"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want DeadlineExceeded", err)
			}
			cancel()
		}
		if got := b.StateOf(hostA); got != Open {
			t.Fatalf("after 3 timeouts: %v, want open", got)
		}
	})
}

func TestCountThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{ConsecutiveFailures: 3, CountThrottled: true})
		rt := b.Wrap(newStatusStub(429))
		for range 3 {
			send(t.Context(), rt, "http://a.test/")
		}
		if got := b.StateOf(hostA); got != Open {
			t.Fatalf("state %v, want open", got)
		}
	})
}

// TestDeadLoadBalancerTrips: a load balancer with no healthy backend that
// answers every request "503, Retry-After: 0" (or a date already past) asks
// for no pause; that is no throttle, and the breaker must open on it.
func TestDeadLoadBalancerTrips(t *testing.T) {
	for _, value := range []string{"0", "Thu, 01 Jan 1970 00:00:00 GMT"} {
		t.Run(value, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					r := testkit.Respond(req, http.StatusServiceUnavailable, "", nil)
					r.Header.Set("Retry-After", value)
					return r, nil
				}}
				b := New(Config{})
				rt := b.Wrap(stub)
				for range DefaultConsecutiveFailures {
					send(t.Context(), rt, "http://lb.test/")
				}
				if st := b.StateOf("http://lb.test:80"); st != Open {
					t.Errorf("after %d answers of 503 Retry-After %q the breaker is %v, want open",
						DefaultConsecutiveFailures, value, st)
				}
			})
		})
	}
}
