package fleetlab

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/examples/lab/quota"
)

// HealthUpstream is a loopback server for breaker workers that answers 503
// to the requests a function picks (by group, worker and time since the
// run's start) and 200 to the others, logging arrivals. It is safe for
// concurrent use.
type HealthUpstream struct {
	srv   *httptest.Server
	sick  func(group string, worker int, since time.Duration) bool
	start atomic.Int64 // the run's start, Unix ns; 0 until Start

	mu  sync.Mutex // guards log
	log []Arrival
}

// NewHealthUpstream starts a server on 127.0.0.1 that fails the requests
// sick picks. Until Start is called every request succeeds.
func NewHealthUpstream(sick func(group string, worker int, since time.Duration) bool) *HealthUpstream {
	u := &HealthUpstream{sick: sick}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	return u
}

// URL is the server's base URL.
func (u *HealthUpstream) URL() string { return u.srv.URL }

// Close shuts the server down.
func (u *HealthUpstream) Close() { u.srv.Close() }

// Start sets the run's start, from which sick's times count.
func (u *HealthUpstream) Start(t time.Time) { u.start.Store(t.UnixNano()) }

// Arrivals returns a copy of the log, in order of arrival.
func (u *HealthUpstream) Arrivals() []Arrival {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.log)
}

func (u *HealthUpstream) serve(w http.ResponseWriter, r *http.Request) {
	worker, _ := strconv.Atoi(r.Header.Get(WorkerHeader))
	a := Arrival{At: time.Now(), Group: r.Header.Get(quota.KeyHeader), Worker: worker, Status: http.StatusOK}
	if s := u.start.Load(); s != 0 && u.sick(a.Group, worker, a.At.Sub(time.Unix(0, s))) {
		a.Status = http.StatusServiceUnavailable
	}
	u.mu.Lock()
	u.log = append(u.log, a)
	u.mu.Unlock()
	w.WriteHeader(a.Status)
}
