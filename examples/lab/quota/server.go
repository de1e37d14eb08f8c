package quota

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// KeyHeader carries the client key that a quota is kept per. Requests
// without it share the quota of the empty key.
const KeyHeader = "X-Api-Key"

// Config configures a [Server]. The zero value is the lab's upstream: 100
// requests per second per key in bursts of 10, the IETF dialect, and
// answers without delay.
type Config struct {
	// Limit is each key's quota; see [Limit] for its defaults.
	Limit Limit
	// Dialect is how the quota is announced. If zero, IETF.
	Dialect Dialect
	// Latency is how long an admitted request takes to serve. Denied
	// requests are answered at once, as a limiter in front of the service
	// does. If zero, none.
	Latency time.Duration
}

// Server is an HTTP handler that enforces a quota per client key
// ([KeyHeader]) with the generic cell rate algorithm and answers requests
// over it with 429 Too Many Requests, announcing the quota in its
// [Dialect]. It logs every request it receives (an [Arrival]), so a lab
// can count what a client sent, when, and how much of it was refused.
//
// It reads the clock with time.Now, so inside a testing/synctest bubble,
// served through [github.com/tailguard/tailguard/examples/lab.InMemory],
// it runs on the fake clock; behind an httptest.Server it serves loopback
// clients, in this process or in others.
//
// A Server is safe for concurrent use.
type Server struct {
	limit   Limit
	dialect Dialect
	latency time.Duration

	mu    sync.Mutex // guards the fields below
	keys  map[string]*gcra
	log   []Arrival
	start time.Time
}

// Arrival is one request as the [Server] saw it.
type Arrival struct {
	// At is when it arrived.
	At time.Time
	// Key is its client key.
	Key string
	// Status is the answer: 200, or 429 when over the quota.
	Status int
	// Wait is, for a 429, how long until the key's next request would be
	// admitted (exact, whatever the dialect could say).
	Wait time.Duration
	// Pause is, for a 429, the pause the answer announced (Retry-After),
	// 0 when the dialect announces none.
	Pause time.Duration
}

// New returns a server; it panics if cfg's Limit is invalid (the message
// names the field).
func New(cfg Config) *Server {
	if cfg.Dialect < 0 || int(cfg.Dialect) >= len(dialectNames) {
		panic("quota: Config.Dialect out of range: " + cfg.Dialect.String())
	}
	if cfg.Latency < 0 {
		panic("quota: Config.Latency must not be negative")
	}
	return &Server{limit: cfg.Limit.normalize(), dialect: cfg.Dialect, latency: cfg.Latency,
		keys: map[string]*gcra{}, start: time.Now()}
}

// Limit returns the quota each key gets.
func (s *Server) Limit() Limit { return s.limit }

// Dialect returns how the server announces its quota.
func (s *Server) Dialect() Dialect { return s.dialect }

// Reset forgets every key's history and the log, as if the server had just
// started.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.keys)
	s.log = nil
	s.start = time.Now()
}

// Arrivals returns a copy of the log since the server started or was last
// reset, in order of arrival, and that start.
func (s *Server) Arrivals() ([]Arrival, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log), s.start
}

// decide runs the quota for key at now and logs the arrival.
func (s *Server) decide(key string, now time.Time) Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.keys[key]
	if g == nil {
		g = &gcra{}
		s.keys[key] = g
	}
	dec := g.allow(s.limit, now)
	a := Arrival{At: now, Key: key, Status: http.StatusOK}
	if !dec.Allowed {
		a.Status, a.Wait = http.StatusTooManyRequests, dec.RetryAfter
		if s.dialect.Announces() {
			a.Pause = pause(dec)
		}
	}
	s.log = append(s.log, a)
	return dec
}

// ServeHTTP answers one request: 200 "ok" after the configured latency
// (cut short if the client goes away) or 429 at once.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.ServeHTTPAt(w, r, time.Now()) }

// ServeHTTPAt answers r as ServeHTTP does, judging it against the quota as
// if it had arrived at now. A lab whose server shares a loaded machine
// with its clients judges each request at the instant its client sent it:
// a server process descheduled for a moment would otherwise take the
// requests queued meanwhile, sent evenly, for one burst.
func (s *Server) ServeHTTPAt(w http.ResponseWriter, r *http.Request, now time.Time) {
	s.Answer(w, r, s.Judge(r, now), now)
}

// Judge runs the quota for r's client key as if r had arrived at now, and
// logs the arrival: the first half of ServeHTTPAt, for a caller that must
// judge requests in an order it keeps under its own lock and answer them
// outside it (the answer may wait out the latency).
func (s *Server) Judge(r *http.Request, now time.Time) Decision {
	return s.decide(r.Header.Get(KeyHeader), now)
}

// Answer writes the response for dec, a Decision Judge made at now: the
// second half of ServeHTTPAt.
func (s *Server) Answer(w http.ResponseWriter, r *http.Request, dec Decision, now time.Time) {
	s.dialect.write(w.Header(), s.limit, dec, now)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !dec.Allowed {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, "429 too many requests\n")
		return
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	io.WriteString(w, "ok\n")
}
