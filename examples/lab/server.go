package lab

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a loopback HTTP server whose every request (every attempt) takes
// a latency drawn from a [Dist], then answers 200 "ok". A request whose
// client gives up (a cancelled hedge) stops waiting at once and frees its
// slot, as a well-behaved server would.
//
// With a capacity, at most that many requests are served at once and the
// rest queue: the "busy upstream" on which redundant requests cost latency.
//
// A Server is safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	dist Dist
	slot chan struct{} // nil: unlimited capacity

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand

	attempts atomic.Int64
	canceled atomic.Int64
	inFlight atomic.Int64
}

// ServerStats counts what a [Server] saw since the last [Server.Reset].
type ServerStats struct {
	Attempts int64 // requests received
	Canceled int64 // requests whose client gave up before the answer
	InFlight int64 // requests being served now
}

// NewServer starts a server on 127.0.0.1 with latencies from d, seeded with
// seed. capacity ≤ 0 means unlimited. Close it when done.
func NewServer(d Dist, seed uint64, capacity int) *Server {
	s := &Server{dist: d, rnd: NewRand(seed)}
	if capacity > 0 {
		s.slot = make(chan struct{}, capacity)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Dist is the server's latency distribution.
func (s *Server) Dist() Dist { return s.dist }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// Reset rewinds the latency source to seed and zeroes the counters, so the
// next arm faces the same draws as the last.
func (s *Server) Reset(seed uint64) {
	s.mu.Lock()
	s.rnd = NewRand(seed)
	s.mu.Unlock()
	s.attempts.Store(0)
	s.canceled.Store(0)
}

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{Attempts: s.attempts.Load(), Canceled: s.canceled.Load(), InFlight: s.inFlight.Load()}
}

// WaitIdle waits until no request is in flight, or timeout passes, and
// reports whether the server went idle: an arm's cancelled losers must not
// steal capacity from the next arm.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for s.inFlight.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func (s *Server) draw() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dist.Sample(s.rnd)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.attempts.Add(1)
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	// Draw on arrival, so the sequence of draws does not depend on queueing.
	d := s.draw()
	ctx := r.Context()
	if s.slot != nil {
		select {
		case s.slot <- struct{}{}:
			defer func() { <-s.slot }()
		case <-ctx.Done():
			s.canceled.Add(1)
			return
		}
	}
	if !sleep(ctx, d) {
		s.canceled.Add(1)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// sleep waits d or until ctx is done, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
