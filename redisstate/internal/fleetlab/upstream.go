package fleetlab

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tailguard/tailguard/examples/lab/quota"
)

// WorkerHeader carries the ID of the worker that sent a request.
const WorkerHeader = "X-Fleet-Worker"

// Arrival is one request as the upstream saw it.
type Arrival struct {
	At     time.Time
	Group  string // the quota key
	Worker int
	Status int
	// Injected marks the 429 the run asked for with Inject.
	Injected bool
	// Pause is the pause the answer asked the client for (Retry-After,
	// or RateLimit with nothing remaining), 0 if none.
	Pause time.Duration
}

// Upstream is the quota server on a loopback port, logging arrivals per
// worker. It is safe for concurrent use.
type Upstream struct {
	srv   *httptest.Server
	quota *quota.Server

	mu     sync.Mutex // guards log and inject
	log    []Arrival
	inject map[injectKey]time.Duration // pending pauses to answer with
}

type injectKey struct {
	group  string
	worker int
}

// NewUpstream starts the quota server with cfg on 127.0.0.1.
func NewUpstream(cfg quota.Config) *Upstream {
	u := &Upstream{quota: quota.New(cfg), inject: map[injectKey]time.Duration{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	return u
}

// URL is the server's base URL.
func (u *Upstream) URL() string { return u.srv.URL }

// Limit returns the quota each group gets.
func (u *Upstream) Limit() quota.Limit { return u.quota.Limit() }

// Close shuts the server down.
func (u *Upstream) Close() { u.srv.Close() }

// Inject makes the next request of worker in group be answered 429 with
// Retry-After: pause (whole seconds), as an upstream asking a fleet to back
// off would.
func (u *Upstream) Inject(group string, worker int, pause time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.inject[injectKey{group, worker}] = pause
}

// Arrivals returns a copy of the log, in order of arrival.
func (u *Upstream) Arrivals() []Arrival {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.log)
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	worker, _ := strconv.Atoi(r.Header.Get(WorkerHeader))
	a := Arrival{Group: r.Header.Get(quota.KeyHeader), Worker: worker}
	u.mu.Lock()
	pause, injected := u.inject[injectKey{a.Group, worker}]
	delete(u.inject, injectKey{a.Group, worker})
	u.mu.Unlock()
	if injected {
		a.At, a.Status, a.Injected = time.Now(), http.StatusTooManyRequests, true
		u.record(a)
		w.Header().Set("Retry-After", strconv.Itoa(int(pause/time.Second)))
		http.Error(w, "pause", http.StatusTooManyRequests)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.At = time.Now()
	u.quota.ServeHTTP(sw, r)
	a.Status = sw.status
	a.Pause = askedPause(w.Header())
	u.record(a)
}

func (u *Upstream) record(a Arrival) {
	u.mu.Lock()
	u.log = append(u.log, a)
	u.mu.Unlock()
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// askedPause returns the pause h asks for: Retry-After in seconds, else a
// RateLimit field with r=0 for its t seconds (the quota lab's dialects).
func askedPause(h http.Header) time.Duration {
	if n, err := strconv.Atoi(h.Get("Retry-After")); err == nil {
		return time.Duration(n) * time.Second
	}
	rl := h.Get("RateLimit")
	if !strings.Contains(rl, ";r=0;") {
		return 0
	}
	_, t, _ := strings.Cut(rl, ";t=")
	n, err := strconv.Atoi(t)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}
