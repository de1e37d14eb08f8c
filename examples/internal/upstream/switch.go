package upstream

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
)

// Switch is a server that can be taken down and brought back: while down
// it answers every attempt with 503 Service Unavailable, as a host whose
// backend died behind its load balancer does.
type Switch struct {
	srv      *httptest.Server
	down     atomic.Bool
	attempts atomic.Int64
}

// NewSwitch starts a server that is up.
func NewSwitch() *Switch {
	s := &Switch{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL.
func (s *Switch) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *Switch) Close() { s.srv.Close() }

// SetDown takes the server down (true) or brings it back (false).
func (s *Switch) SetDown(down bool) { s.down.Store(down) }

// Attempts returns how many attempts reached the server.
func (s *Switch) Attempts() int { return int(s.attempts.Load()) }

func (s *Switch) serve(w http.ResponseWriter, r *http.Request) {
	s.attempts.Add(1)
	if s.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}
