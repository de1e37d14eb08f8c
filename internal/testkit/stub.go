package testkit

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RoundTripFunc adapts a function to [http.RoundTripper].
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f(req).
func (f RoundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Stub is a scripted in-memory transport. Respond decides the outcome of
// call n (1-based, counted across all calls, in arrival order). The stub
// reads and closes every request body first, as a real transport does, and
// records what it read, so tests can check every attempt got the whole body.
//
// Respond may sleep with [Sleep] to script latency: inside a testing/synctest
// bubble that costs no real time.
type Stub struct {
	Respond func(n int, req *http.Request) (*http.Response, error)

	calls atomic.Int64

	mu     sync.Mutex // guards bodies
	bodies []string
}

// RoundTrip implements [http.RoundTripper].
func (s *Stub) RoundTrip(req *http.Request) (*http.Response, error) {
	n := int(s.calls.Add(1))
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
	}
	return s.Respond(n, req)
}

// Calls returns how many requests the stub has received.
func (s *Stub) Calls() int { return int(s.calls.Load()) }

// Bodies returns the request bodies received, in arrival order.
func (s *Stub) Bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// Sleep waits for d or until ctx is done, and returns ctx's error in the
// latter case, as a transport blocked on the network would.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Respond builds a response to req with the given status and body. The body
// is tracked by tr when tr is non-nil.
func Respond(req *http.Request, status int, body string, tr *Tracker) *http.Response {
	var rc io.ReadCloser = io.NopCloser(strings.NewReader(body))
	if tr != nil {
		rc = tr.Body(body)
	}
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header),
		Body:          rc,
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
