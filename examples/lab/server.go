package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Network says how clients reach a [Server].
type Network uint8

const (
	// HTTP1 is a loopback HTTP/1.1 server (keep-alive).
	HTTP1 Network = iota
	// HTTP2 is a loopback HTTPS server speaking HTTP/2: every request of a
	// client shares one connection, streams multiplexed on it.
	HTTP2
	// Memory serves requests on the client's goroutine through
	// [InMemory], with no socket: inside a testing/synctest bubble the
	// whole run is on the fake clock.
	Memory
)

// String returns "HTTP/1.1", "HTTP/2" or "in memory".
func (n Network) String() string {
	switch n {
	case HTTP2:
		return "HTTP/2"
	case Memory:
		return "in memory"
	}
	return "HTTP/1.1"
}

// ServerConfig configures a [Server] for [StartServer].
type ServerConfig struct {
	Dist     Dist
	Seed     uint64
	Capacity int     // requests served at once, the rest queue; ≤ 0: unlimited
	Stall    Stall   // the server's pauses; zero: none
	Network  Network // how clients reach it
	// Name is the host name of a Memory server's URL
	// ("http://NAME.lab.invalid"); if empty, "upstream".
	Name string
}

// Server is a loopback HTTP server whose every request (every attempt) takes
// a latency drawn from a [Dist], then answers 200 "ok". A request whose
// client gives up (a cancelled hedge) stops waiting at once and frees its
// slot, as a well-behaved server would.
//
// With a capacity, at most that many requests are served at once and the
// rest queue: the "busy upstream" on which redundant requests cost latency.
// With a [Stall], the server pauses on a schedule, as a whole.
//
// A Server is safe for concurrent use.
type Server struct {
	cfg  ServerConfig
	srv  *httptest.Server // nil for Memory
	url  string
	slot chan struct{} // nil: unlimited capacity

	mu    sync.Mutex // guards rnd and epoch
	rnd   *rand.Rand
	epoch time.Time // origin of the stall schedule

	attempts atomic.Int64
	canceled atomic.Int64
	inFlight atomic.Int64
	http2    atomic.Int64
	scale    atomic.Uint64 // math.Float64bits of the latency multiplier; 0 means 1
}

// ServerStats counts what a [Server] saw since the last [Server.Reset].
type ServerStats struct {
	Attempts int64 // requests received
	Canceled int64 // requests whose client gave up before the answer
	InFlight int64 // requests being served now
	HTTP2    int64 // requests received over HTTP/2
}

// NewServer starts a loopback HTTP/1.1 server with latencies from d,
// seeded with seed. capacity ≤ 0 means unlimited. Close it when done.
func NewServer(d Dist, seed uint64, capacity int) *Server {
	return StartServer(ServerConfig{Dist: d, Seed: seed, Capacity: capacity})
}

// StartServer starts a server as c says. Close it when done.
func StartServer(c ServerConfig) *Server {
	if st := c.Stall; st.Every < 0 || st.For < 0 || st.At < 0 || (st.Every > 0 && st.For >= st.Every) {
		panic(fmt.Sprintf("lab: a stall must pause for less than its period, got %+v", st))
	}
	s := &Server{cfg: c, rnd: NewRand(c.Seed), epoch: time.Now()}
	if c.Capacity > 0 {
		s.slot = make(chan struct{}, c.Capacity)
	}
	switch c.Network {
	case Memory:
		name := c.Name
		if name == "" {
			name = "upstream"
		}
		s.url = "http://" + name + ".lab.invalid"
	default:
		s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
		// A hedge canceled while its connection is being set up makes the
		// server log a failed handshake: expected here, and not news.
		s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		if c.Network == HTTP2 {
			s.srv.EnableHTTP2 = true
			// Enough streams that a client's requests all share one
			// connection, even while the server stalls with hundreds
			// in flight: that sharing is what HTTP/2 is measured for.
			s.srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1 << 16}
			s.srv.StartTLS()
		} else {
			s.srv.Start()
		}
		s.url = s.srv.URL
	}
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Dist is the server's latency distribution.
func (s *Server) Dist() Dist { return s.cfg.Dist }

// Network is how clients reach the server.
func (s *Server) Network() Network { return s.cfg.Network }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Transport returns a fresh client transport for the server, with no
// warm connections: [NewTransport] for HTTP/1.1; the same, trusting the
// server's certificate and speaking HTTP/2, for HTTP2 (every httptest
// server has the same certificate, so it reaches all of them); the
// server's handler for Memory.
func (s *Server) Transport() http.RoundTripper {
	switch s.cfg.Network {
	case Memory:
		return InMemory(http.HandlerFunc(s.serve))
	case HTTP2:
		tr := NewTransport()
		roots := x509.NewCertPool()
		roots.AddCert(s.srv.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
		tr.ForceAttemptHTTP2 = true
		return tr
	}
	return NewTransport()
}

// Reset rewinds the latency source to seed, restarts the stall schedule
// and zeroes the counters, so the next arm faces the same draws and the
// same pauses as the last.
func (s *Server) Reset(seed uint64) {
	s.mu.Lock()
	s.rnd = NewRand(seed)
	s.epoch = time.Now()
	s.mu.Unlock()
	s.attempts.Store(0)
	s.canceled.Store(0)
	s.http2.Store(0)
}

// Scale multiplies every latency drawn from now on by f (1 restores the
// distribution): a step in the upstream's latency, as a deploy, a failover
// or a noisy neighbour makes one.
func (s *Server) Scale(f float64) { s.scale.Store(math.Float64bits(f)) }

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{Attempts: s.attempts.Load(), Canceled: s.canceled.Load(), InFlight: s.inFlight.Load(), HTTP2: s.http2.Load()}
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
	d := s.cfg.Dist.Sample(s.rnd)
	s.mu.Unlock()
	if f := s.scale.Load(); f != 0 {
		d = time.Duration(math.Float64frombits(f) * float64(d))
	}
	return d
}

// stalled returns how long a request arriving at arrival and needing
// work takes, the server's pauses included.
func (s *Server) stalled(arrival time.Time, work time.Duration) time.Duration {
	if s.cfg.Stall.Every <= 0 {
		return work
	}
	s.mu.Lock()
	at := arrival.Sub(s.epoch)
	s.mu.Unlock()
	return s.cfg.Stall.Finish(at, work) - at
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	s.attempts.Add(1)
	if r.ProtoMajor == 2 {
		s.http2.Add(1)
	}
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	// Draw on arrival, so the sequence of draws does not depend on queueing.
	d := s.stalled(arrival, s.draw())
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
