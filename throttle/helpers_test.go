package throttle

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// upstream is an in-memory server for synctest bubbles. answer decides the
// response to arrival n (1-based); every arrival's instant is recorded.
// Responses are tracked so tests can prove the throttle closes nothing it
// does not own.
type upstream struct {
	answer  func(n int, req *http.Request) *http.Response
	latency time.Duration

	tr testkit.Tracker

	mu       sync.Mutex // guards arrivals
	arrivals []time.Time
}

func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	u.mu.Lock()
	u.arrivals = append(u.arrivals, time.Now())
	n := len(u.arrivals)
	u.mu.Unlock()
	if err := testkit.Sleep(req.Context(), u.latency); err != nil {
		return nil, err
	}
	return u.answer(n, req), nil
}

// times returns the arrival instants, as offsets from start.
func (u *upstream) times(start time.Time) []time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]time.Duration, len(u.arrivals))
	for i, a := range u.arrivals {
		out[i] = a.Sub(start)
	}
	return out
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.arrivals)
}

// reply builds a response with status and header pairs, tracked by tr.
func reply(req *http.Request, tr *testkit.Tracker, status int, kv ...string) *http.Response {
	resp := testkit.Respond(req, status, "", tr)
	for i := 0; i+1 < len(kv); i += 2 {
		resp.Header.Add(kv[i], kv[i+1])
	}
	return resp
}

// roomy is a RateLimit-Policy so generous that pacing never delays a test
// request: a host that announces it is paced by its headers, not by AIMD,
// so gate tests see the gate alone.
const roomy = `"roomy";q=100000;w=1`

// always answers every request with status and headers.
func always(u *upstream, status int, kv ...string) func(int, *http.Request) *http.Response {
	return func(_ int, req *http.Request) *http.Response { return reply(req, &u.tr, status, kv...) }
}

// pausedOnce answers the first request 429 "Retry-After: 5" and every
// later one 200, all announcing the roomy policy, so that the pause is the
// gate's alone.
func pausedOnce(u *upstream) func(int, *http.Request) *http.Response {
	return func(n int, req *http.Request) *http.Response {
		if n == 1 {
			return reply(req, &u.tr, 429, "Retry-After", "5", "RateLimit-Policy", roomy)
		}
		return reply(req, &u.tr, 200, "RateLimit-Policy", roomy)
	}
}

// send sends a GET to url through rt with ctx, closing any response body,
// and returns the status (0 on error) and the error.
func send(ctx context.Context, rt http.RoundTripper, url string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// hedgeCtx returns ctx marked as attempt n of a hedge stage.
func hedgeCtx(ctx context.Context, n int) context.Context {
	return attempt.WithHedge(ctx, &attempt.Marks(n, attempt.Mark{})[n-1])
}

// closeTracker records whether a request body was closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

// mustPanic returns the panic message of f, failing t if f does not panic.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg, _ = r.(string)
	}()
	f()
	return ""
}
