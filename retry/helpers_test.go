package retry

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
)

// step scripts one stub call: an error, or a response.
type step struct {
	status int
	header http.Header
	body   string
	err    error
}

// script is a stub transport playing steps in order (the last repeats),
// recording when each call arrived and which attempt it was.
type script struct {
	*testkit.Stub
	tr *testkit.Tracker

	mu       sync.Mutex // guards times, attempts
	times    []time.Time
	attempts []int
}

func newScript(steps ...step) *script {
	s := &script{Stub: &testkit.Stub{}, tr: &testkit.Tracker{}}
	s.Respond = func(n int, req *http.Request) (*http.Response, error) {
		s.mu.Lock()
		s.times = append(s.times, time.Now())
		s.attempts = append(s.attempts, AttemptFrom(req.Context()))
		s.mu.Unlock()
		st := steps[min(n, len(steps))-1]
		if st.err != nil {
			return nil, st.err
		}
		resp := testkit.Respond(req, st.status, st.body, s.tr)
		for k, v := range st.header {
			resp.Header[k] = v
		}
		return resp, nil
	}
	return s
}

// gaps returns the time between consecutive calls.
func (s *script) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(s.times); i++ {
		g = append(g, s.times[i].Sub(s.times[i-1]))
	}
	return g
}

func (s *script) attemptNumbers() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.attempts...)
}

func status(code int) step { return step{status: code, body: http.StatusText(code)} }

func retryAfter(code int, value string) step {
	return step{status: code, body: "slow down", header: http.Header{"Retry-After": {value}}}
}

// newReq builds a request; a non-empty body uses strings.Reader (GetBody set).
func newReq(t *testing.T, ctx context.Context, method, body string, hdr ...string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://upstream.test/x", r)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

// readBody reads and closes resp's body.
func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return string(b)
}

// tolerant is a budget whose failure gate lets a test's single request fail
// many times in a row (the default closes after 5 failures).
func tolerant() *budget.Budget { return budget.New(budget.Config{MaxTokens: 100}) }

// quiet is a Config with exact delays, for tests that count time.
func quiet(c Config) Config {
	if c.Jitter == nil {
		c.Jitter = NoJitter
	}
	return c
}
