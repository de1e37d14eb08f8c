package upstream

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Throttled is a server that answers the first attempt on each path with
// 429 Too Many Requests and a Retry-After header, and later attempts with
// 200, recording when each attempt arrived. Paths under "/browse/" are
// never throttled: they stand for other callers' requests to the same host.
//
// A path ending in "/seconds" gets "Retry-After: 1" (delay-seconds), one
// ending in "/hour" gets "Retry-After: 3600"; any other path gets an
// HTTP-date 2 seconds ahead, which HTTP-date's one-second resolution
// truncates to a wait between 1 and 2 seconds.
type Throttled struct {
	srv *httptest.Server

	mu   sync.Mutex // guards seen
	seen map[string][]Arrival
}

// Arrival is one attempt at a [Throttled] server.
type Arrival struct {
	At         time.Time
	Status     int
	RetryAfter string // the header sent, if any
}

// NewThrottled starts a throttling server.
func NewThrottled() *Throttled {
	t := &Throttled{seen: map[string][]Arrival{}}
	t.srv = httptest.NewServer(http.HandlerFunc(t.serve))
	return t
}

// URL is the server's base URL.
func (t *Throttled) URL() string { return t.srv.URL }

// Close shuts the server down.
func (t *Throttled) Close() { t.srv.Close() }

// Arrivals returns the attempts seen on path, in order.
func (t *Throttled) Arrivals(path string) []Arrival {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Arrival(nil), t.seen[path]...)
}

func (t *Throttled) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	t.mu.Lock()
	first := len(t.seen[r.URL.Path]) == 0 && !strings.HasPrefix(r.URL.Path, "/browse/")
	a := Arrival{At: now, Status: http.StatusOK}
	if first {
		a.Status = http.StatusTooManyRequests
		switch {
		case strings.HasSuffix(r.URL.Path, "/seconds"):
			a.RetryAfter = "1"
		case strings.HasSuffix(r.URL.Path, "/hour"):
			a.RetryAfter = "3600"
		default:
			a.RetryAfter = now.Add(2 * time.Second).UTC().Format(http.TimeFormat)
		}
	}
	t.seen[r.URL.Path] = append(t.seen[r.URL.Path], a)
	t.mu.Unlock()

	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
		http.Error(w, "slow down", a.Status)
		return
	}
	w.Write([]byte("ok\n"))
}
