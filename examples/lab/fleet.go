package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// Fleet is the replicas of one service, each a [Server] of the same
// [Network], compared against as one [Upstream]: the replica lab's
// upstream. Requests reach a replica through [Fleet.Balance], a
// client-side load balancer.
//
// A Fleet is safe for concurrent use.
type Fleet struct {
	Replicas []*Server
}

// StartFleet starts one server per config, all of one network, and
// names Memory ones replica0, replica1, ... Close it when done.
func StartFleet(cfgs []ServerConfig) *Fleet {
	f := &Fleet{}
	for i, c := range cfgs {
		if c.Network == Memory && c.Name == "" {
			c.Name = fmt.Sprintf("replica%d", i)
		}
		f.Replicas = append(f.Replicas, StartServer(c))
	}
	return f
}

// URLs returns the replicas' base URLs, in order.
func (f *Fleet) URLs() []string {
	us := make([]string, len(f.Replicas))
	for i, s := range f.Replicas {
		us[i] = s.URL()
	}
	return us
}

// URL is the first replica's URL: what a caller asks for before
// [Fleet.Balance] picks the replica.
func (f *Fleet) URL() string { return f.Replicas[0].URL() }

// Transport returns a fresh client transport that reaches every replica.
func (f *Fleet) Transport() http.RoundTripper {
	if f.Replicas[0].Network() != Memory {
		return f.Replicas[0].Transport() // one certificate serves every httptest server
	}
	byHost := make(map[string]http.RoundTripper, len(f.Replicas))
	for _, s := range f.Replicas {
		u, _ := url.Parse(s.URL())
		byHost[u.Host] = s.Transport()
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if rt := byHost[req.URL.Host]; rt != nil {
			return rt.RoundTrip(req)
		}
		return nil, fmt.Errorf("lab: no replica at %s", req.URL.Host)
	})
}

// Warm sends one GET to each replica through rt, and reads its answer, so
// that an arm's first requests find a connection open to each replica
// instead of each dialing its own (on HTTP/2, every request then shares
// that connection, and a burst of TLS handshakes does not open the
// measurement). [Compare] warms each arm's transport before its first
// round, and resets the replicas after.
func (f *Fleet) Warm(ctx context.Context, rt http.RoundTripper) error {
	client := &http.Client{Transport: rt}
	for _, s := range f.Replicas {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL(), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Reset resets each replica, replica i with seed + i: the replicas draw
// different latencies, and every arm the same ones.
func (f *Fleet) Reset(seed uint64) {
	for i, s := range f.Replicas {
		s.Reset(seed + uint64(i))
	}
}

// WaitIdle waits until no replica has a request in flight, or timeout
// passes.
func (f *Fleet) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for _, s := range f.Replicas {
		if !s.WaitIdle(time.Until(deadline)) {
			return false
		}
	}
	return true
}

// Stats returns the replicas' counters, summed.
func (f *Fleet) Stats() ServerStats {
	var sum ServerStats
	for _, s := range f.Replicas {
		st := s.Stats()
		sum.Attempts += st.Attempts
		sum.Canceled += st.Canceled
		sum.InFlight += st.InFlight
		sum.HTTP2 += st.HTTP2
	}
	return sum
}

// Close shuts every replica down.
func (f *Fleet) Close() {
	for _, s := range f.Replicas {
		s.Close()
	}
}

// Balance returns a transport that sends each request to the next replica
// in turn (round robin), over next: the client-side load balancing a
// caller does before any hedging stage sees the request. It rewrites the
// scheme and host of a copy of each request, never the request itself.
func (f *Fleet) Balance(next http.RoundTripper) http.RoundTripper {
	targets := make([]*url.URL, len(f.Replicas))
	for i, s := range f.Replicas {
		targets[i], _ = url.Parse(s.URL())
	}
	var turn atomic.Uint64
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		t := targets[(turn.Add(1)-1)%uint64(len(targets))]
		r := req.Clone(req.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.Scheme, t.Host, ""
		return next.RoundTrip(r)
	})
}

// roundTripFunc adapts a function to [http.RoundTripper].
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
