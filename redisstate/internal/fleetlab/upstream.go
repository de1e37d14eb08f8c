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

// SentHeader carries the instant a worker's transport took the request,
// after its throttle released it (Unix ns, the machine's clock: the
// workers and the upstream run on one machine). The upstream judges the
// request against the quota at that instant, not when its own process got
// to it: on the 2-core machine the upstream, sharing the cores with the
// workers, Redis and everything else, was descheduled for 100-200 ms
// several times a run and then took the requests queued meanwhile, which
// the fleet had sent evenly, for one burst; it emptied the burst of 10 and
// asked the whole fleet for a second's pause that no client could have
// prevented. Judged at the send, a burst is one the fleet sent (a worker
// releasing late turns together, a process falling back beside the
// others' schedule), which is what the fleet tests measure.
const SentHeader = "X-Fleet-Sent"

// Arrival is one request as the upstream saw it.
type Arrival struct {
	At     time.Time
	Group  string // the quota key
	Worker int
	// Sent is when the worker's transport took the request (SentHeader),
	// zero if it did not say; At is then the same instant, and Lag how
	// long after it the upstream got to the request.
	Sent   time.Time
	Lag    time.Duration
	Status int
	// Injected marks the 429 the run asked for with Inject.
	Injected bool
	// Pause is the pause the answer asked the client for (Retry-After,
	// or RateLimit with nothing remaining), 0 if none.
	Pause time.Duration
}

// Upstream is the quota server on a loopback port, logging arrivals per
// worker: in this process ([NewUpstream]) or in one of its own
// ([StartUpstream]). It is safe for concurrent use.
type Upstream struct {
	srv   *httptest.Server
	quota *quota.Server

	// A remote upstream: base is its URL, and the methods reach it through
	// client; stop ends its process.
	base   string
	limit  quota.Limit
	client *http.Client
	stop   func()
	// control serves the control endpoints (in the remote process).
	control bool

	mu     sync.Mutex // guards log, inject and judged; held while a request is judged
	log    []Arrival
	inject map[injectKey]time.Duration // pending pauses to answer with
	judged map[string]time.Time        // per group, the instant its last request was judged at
}

type injectKey struct {
	group  string
	worker int
}

// NewUpstream starts the quota server with cfg on 127.0.0.1.
func NewUpstream(cfg quota.Config) *Upstream { return newUpstream(cfg, false) }

// newUpstream is NewUpstream, serving the control endpoints if control.
func newUpstream(cfg quota.Config, control bool) *Upstream {
	u := &Upstream{quota: quota.New(cfg), inject: map[injectKey]time.Duration{}, judged: map[string]time.Time{}, control: control}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	return u
}

// URL is the server's base URL.
func (u *Upstream) URL() string {
	if u.srv == nil {
		return u.base
	}
	return u.srv.URL
}

// Limit returns the quota each group gets.
func (u *Upstream) Limit() quota.Limit {
	if u.quota == nil {
		return u.limit
	}
	return u.quota.Limit()
}

// Close shuts the server down.
func (u *Upstream) Close() {
	if u.stop != nil {
		u.stop()
		return
	}
	u.srv.Close()
}

// Inject makes the next request of worker in group be answered 429 with
// Retry-After: pause (whole seconds), as an upstream asking a fleet to back
// off would.
func (u *Upstream) Inject(group string, worker int, pause time.Duration) {
	if u.stop != nil {
		u.remoteInject(group, worker, pause)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.inject[injectKey{group, worker}] = pause
}

// Arrivals returns a copy of the log, in order of At.
func (u *Upstream) Arrivals() []Arrival {
	if u.stop != nil {
		return u.remoteArrivals()
	}
	u.mu.Lock()
	arr := slices.Clone(u.log)
	u.mu.Unlock()
	slices.SortStableFunc(arr, func(a, b Arrival) int { return a.At.Compare(b.At) })
	return arr
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	if u.control && strings.HasPrefix(r.URL.Path, controlPath) {
		u.serveControl(w, r)
		return
	}
	worker, _ := strconv.Atoi(r.Header.Get(WorkerHeader))
	a := Arrival{Group: r.Header.Get(quota.KeyHeader), Worker: worker}
	if ns, err := strconv.ParseInt(r.Header.Get(SentHeader), 10, 64); err == nil {
		a.Sent = time.Unix(0, ns)
	}
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
	// Judged at the send (see SentHeader), but never before a request of
	// the group judged already: requests on different connections may be
	// handled in another order than they were sent, and a quota's clock
	// cannot run backwards. An overtaken request is judged with the one
	// that overtook it.
	u.mu.Lock()
	a.At = time.Now()
	if !a.Sent.IsZero() && a.Sent.Before(a.At) {
		a.At, a.Lag = a.Sent, a.At.Sub(a.Sent)
		if last := u.judged[a.Group]; a.At.Before(last) {
			a.At = last
		}
	}
	u.judged[a.Group] = a.At
	dec := u.quota.Judge(r, a.At)
	u.mu.Unlock()
	u.quota.Answer(sw, r, dec, a.At) // outside the lock: the answer may wait out the latency
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
