package hedge

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestReplicasConfigPanics: a malformed replica list is a programming
// error, named in the panic.
func TestReplicasConfigPanics(t *testing.T) {
	pick := func(PickInfo) int { return 0 }
	many := make([]string, maxReplicas+1)
	for i := range many {
		many[i] = fmt.Sprintf("10.0.%d.%d:80", i/256, i%256)
	}
	tests := []struct {
		name string
		r    Replicas
		want string
	}{
		{"Pick without Addrs", Replicas{Pick: pick}, "hedge: Replicas.Pick and Replicas.PreserveHost need Replicas.Addrs"},
		{"PreserveHost without Addrs", Replicas{PreserveHost: true}, "hedge: Replicas.Pick and Replicas.PreserveHost need Replicas.Addrs"},
		{"too many", Replicas{Addrs: many}, "hedge: Replicas.Addrs must hold at most 1024 replicas, got 1025"},
		{"empty", Replicas{Addrs: []string{""}}, `hedge: Replicas.Addrs[0] "": want a base URL or host:port: missing port in address`},
		{"host without port", Replicas{Addrs: []string{"a.example"}}, `hedge: Replicas.Addrs[0] "a.example": want a base URL or host:port: address a.example: missing port in address`},
		{"port 0", Replicas{Addrs: []string{"a.example:0"}}, `hedge: Replicas.Addrs[0] "a.example:0": want host:port with a host and a port in 1-65535`},
		{"no host", Replicas{Addrs: []string{":80"}}, `hedge: Replicas.Addrs[0] ":80": want host:port with a host and a port in 1-65535`},
		{"scheme", Replicas{Addrs: []string{"ftp://a.example"}}, `hedge: Replicas.Addrs[0] "ftp://a.example": scheme must be http or https`},
		{"URL without host", Replicas{Addrs: []string{"http:///x"}}, `hedge: Replicas.Addrs[0] "http:///x": no host`},
		{"user info", Replicas{Addrs: []string{"https://u:p@a.example"}}, `hedge: Replicas.Addrs[0] "https://u:p@a.example": must not carry user information: credentials belong in the request`},
		{"path", Replicas{Addrs: []string{"https://a.example/api"}}, `hedge: Replicas.Addrs[0] "https://a.example/api": must be a base URL, without path, query or fragment`},
		{"query", Replicas{Addrs: []string{"https://a.example/?x=1"}}, `hedge: Replicas.Addrs[0] "https://a.example/?x=1": must be a base URL, without path, query or fragment`},
		{"bad port", Replicas{Addrs: []string{"http://a.example:99999"}}, `hedge: Replicas.Addrs[0] "http://a.example:99999": port must be in 1-65535`},
		{"duplicate", Replicas{Addrs: []string{"http://a.example", "http://A.example:80"}}, `hedge: Replicas.Addrs[1] "http://A.example:80" names the same replica as Replicas.Addrs[0] "http://a.example"`},
		{"duplicate host:port", Replicas{Addrs: []string{"https://a.example:8443", "a.example:8443"}}, `hedge: Replicas.Addrs[1] "a.example:8443" names the same replica as Replicas.Addrs[0] "https://a.example:8443"`},
		{"http and https", Replicas{Addrs: []string{"https://a.example", "b.example:80", "http://c.example"}}, `hedge: Replicas.Addrs[0] "https://a.example" and Replicas.Addrs[2] "http://c.example" mix http and https: a hedge of an HTTPS request could go out in clear text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, func() { New(Config{Replicas: tt.r}) })
		})
	}
}

// IPv6 literals parse in both forms; host:port entries go with either
// scheme.
func TestReplicasConfigAccepts(t *testing.T) {
	for _, addrs := range [][]string{
		{"[::1]:8080", "http://[::1]:8081", "http://[::1]"},
		{"https://a.example", "b.example:443"},
		{"https://a.example/"},
	} {
		assert.NotPanics(t, func() { New(Config{Replicas: Replicas{Addrs: addrs}}) }, "%q", addrs)
	}
}

// TestReplicaIndex: which listed replica a request URL targets — same
// host, same port (defaulted by scheme), same scheme when the entry has
// one.
func TestReplicaIndex(t *testing.T) {
	s := Config{Replicas: Replicas{Addrs: []string{"http://a.example", "http://b.example:8443", "c.example:8080", "[::1]:9000"}}}.replicas(time.Now())
	tests := []struct {
		url  string
		want int
	}{
		{"http://a.example/x", 0},
		{"http://A.EXAMPLE:80/x", 0},
		{"https://a.example/x", -1}, // port 443, and another scheme
		{"http://a.example:8080/x", -1},
		{"http://b.example:8443/x?q=1", 1},
		{"https://b.example:8443/x", -1}, // the entry names http
		{"http://c.example:8080/", 2},
		{"https://c.example:8080/", -1}, // host:port takes the listed URLs' scheme
		{"http://c.example/", -1},
		{"http://[::1]:9000/", 3},
		{"http://d.example/", -1},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		require.NoError(t, err)
		assert.Equal(t, tt.want, s.index(u), tt.url)
	}
	// Without URLs, host:port entries take the request's scheme.
	bare := Config{Replicas: Replicas{Addrs: []string{"c.example:8080"}}}.replicas(time.Now())
	for _, raw := range []string{"http://c.example:8080/", "https://c.example:8080/"} {
		u, _ := url.Parse(raw)
		assert.Equal(t, 0, bare.index(u), raw)
		assert.Equal(t, u.Scheme, bare.target(0, u).Scheme, "a hedge keeps the request's scheme")
	}
	u, _ := url.Parse("http://a.example/x")
	assert.Zero(t, testing.AllocsPerRun(100, func() { s.index(u) }), "index allocates")
}

// TestReplicaTarget: a hedge's URL is the request's with only the scheme
// (for an entry that names one) and host replaced — a path that looks
// like an authority cannot move it to another host.
func TestReplicaTarget(t *testing.T) {
	s := Config{Replicas: Replicas{Addrs: []string{"https://b.example:8443", "c.example:8080"}}}.replicas(time.Now())
	tests := []struct {
		from string
		i    int
		want string
	}{
		{"http://a.example/x/y?q=1&r=%2F", 0, "https://b.example:8443/x/y?q=1&r=%2F"},
		{"https://a.example/x", 1, "https://c.example:8080/x"},
		{"https://u:p@a.example/x", 1, "https://u:p@c.example:8080/x"},
		{"http://a.example//evil.example/x", 0, "https://b.example:8443//evil.example/x"},
		{"http://a.example/%2F%2Fevil.example", 0, "https://b.example:8443/%2F%2Fevil.example"},
	}
	for _, tt := range tests {
		from, err := url.Parse(tt.from)
		require.NoError(t, err)
		before := *from
		got := s.target(tt.i, from)
		assert.Equal(t, tt.want, got.String(), tt.from)
		assert.Equal(t, s.list[tt.i].host, got.Host)
		assert.Equal(t, before, *from, "the request's URL is not modified")
		// What net/http dials and writes: the replica, and the path as is.
		reparsed, err := url.Parse(got.String())
		require.NoError(t, err)
		assert.Equal(t, s.list[tt.i].host, reparsed.Host, "%s reparses to another host", got)
	}
}

// TestReplicaHostHeader: the Host a hedge to another replica carries.
func TestReplicaHostHeader(t *testing.T) {
	replace := Config{Replicas: Replicas{Addrs: []string{"b.example:80"}}}.replicas(time.Now())
	preserve := Config{Replicas: Replicas{Addrs: []string{"b.example:80"}, PreserveHost: true}}.replicas(time.Now())
	plain, _ := http.NewRequest(http.MethodGet, "http://a.example:80/x", nil)
	virtual, _ := http.NewRequest(http.MethodGet, "http://a.example:80/x", nil)
	virtual.Host = "api.example"
	assert.Equal(t, "", replace.hostHeader(plain), "replaced: net/http sends the replica's host")
	assert.Equal(t, "", replace.hostHeader(virtual))
	assert.Equal(t, "a.example:80", preserve.hostHeader(plain), "preserved: the URL's host when Host is empty")
	assert.Equal(t, "api.example", preserve.hostHeader(virtual))
}

// TestMiddlewareRefusesReplicas: the server side has no URL to change.
func TestMiddlewareRefusesReplicas(t *testing.T) {
	for _, r := range []Replicas{{Addrs: []string{"a.example:80"}}, {Pick: func(PickInfo) int { return 0 }}, {PreserveHost: true}} {
		assert.PanicsWithValue(t, `hedge: Replicas must be zero in a MiddlewareConfig: a run of the handler has no URL to send elsewhere; the handler picks its backend (see Middleware, "Replicas")`,
			func() { NewMiddleware(MiddlewareConfig{Config: Config{Replicas: r}}) })
	}
}

// recordingStub records, per attempt, where it went and what it carried.
type seen struct {
	host, hostHeader, auth, cookie string
	user                           bool
}

func recordingStub(latency map[string]time.Duration) (*testkit.Stub, func() []seen) {
	var mu sync.Mutex
	var got []seen
	stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		mu.Lock()
		got = append(got, seen{host: req.URL.Host, hostHeader: req.Host, auth: req.Header.Get("Authorization"),
			cookie: req.Header.Get("Cookie"), user: req.URL.User != nil})
		mu.Unlock()
		d, ok := latency[req.URL.Hostname()]
		if !ok {
			d = time.Second
		}
		return after(req, d, 200, nil)
	}}
	return stub, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// TestReplicaHedgeRequest: the hedge to another replica carries the
// request — method, path, query, headers (credentials included: the
// replica is listed), a fresh copy of the body — with the replica's host,
// and the caller's request is left exactly as it was.
func TestReplicaHedgeRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub, _ := recordingStub(map[string]time.Duration{"b.test": 5 * time.Millisecond})
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: []string{"http://a.test", "http://b.test"}}})
		req, err := http.NewRequest(http.MethodPut, "http://a.test/x/y?q=1", strings.NewReader("payload"))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer t")
		req.Host = "api.test"
		url, header := *req.URL, req.Header.Clone()

		var mu sync.Mutex
		var sent []*http.Request
		rt := testkit.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			sent = append(sent, r)
			mu.Unlock()
			return stub.RoundTrip(r)
		})
		resp, err := h.Wrap(rt).RoundTrip(req)
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()

		require.Len(t, sent, 2)
		hedge := sent[1]
		assert.Equal(t, "http://b.test/x/y?q=1", hedge.URL.String())
		assert.Equal(t, "", hedge.Host, "replaced: net/http sends b.test")
		assert.Equal(t, http.MethodPut, hedge.Method)
		assert.Equal(t, "Bearer t", hedge.Header.Get("Authorization"), "b is listed")
		assert.Equal(t, []string{"payload", "payload"}, stub.Bodies(), "each attempt got the whole body")
		assert.Same(t, resp.Request, hedge, "the response says where it came from")

		assert.Equal(t, url, *req.URL, "the caller's URL is untouched")
		assert.Equal(t, header, req.Header, "the caller's headers are untouched")
		assert.Equal(t, "api.test", req.Host)
		assert.Same(t, req.URL, sent[0].URL, "the original keeps the caller's URL")
		assert.Equal(t, "api.test", sent[0].Host, "and its Host")
	})
}

// TestReplicaPreserveHost: with PreserveHost the hedge keeps the request's
// Host header: its Host field, or its URL's host.
func TestReplicaPreserveHost(t *testing.T) {
	for _, tt := range []struct{ host, want string }{{"", "a.test"}, {"api.test", "api.test"}} {
		synctest.Test(t, func(t *testing.T) {
			stub, got := recordingStub(map[string]time.Duration{"b.test": 5 * time.Millisecond})
			h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: []string{"a.test:80", "10.0.0.2:80"}, PreserveHost: true}})
			stub2 := testkit.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Hostname() == "10.0.0.2" {
					r = r.Clone(r.Context())
					r.URL.Host = "b.test:80" // the stub's latency table knows b.test
				}
				return stub.RoundTrip(r)
			})
			req, err := http.NewRequest(http.MethodGet, "http://a.test/x", nil)
			require.NoError(t, err)
			req.Host = tt.host
			resp, err := h.Wrap(stub2).RoundTrip(req)
			require.NoError(t, err)
			readAll(t, resp)
			synctest.Wait()
			require.Len(t, got(), 2)
			assert.Equal(t, tt.want, got()[1].hostHeader)
		})
	}
}

// TestReplicaUnlistedHost: a request to a host no replica matches is
// hedged to its own URL, as without Replicas, and neither attempt carries
// its credentials; the caller's request keeps them.
func TestReplicaUnlistedHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub, got := recordingStub(map[string]time.Duration{})
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: abc}})
		req, err := http.NewRequest(http.MethodGet, "http://u:p@d.test/x", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Cookie", "s=1")
		resp, err := h.Wrap(stub).RoundTrip(req)
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()
		want := seen{host: "d.test", hostHeader: "d.test"}
		assert.Equal(t, []seen{want, want}, got())
		assert.Equal(t, "Bearer t", req.Header.Get("Authorization"))
		assert.NotNil(t, req.URL.User)
	})
}

// TestReplicaUnlistedPassThrough: credentials are removed from every
// request to an unlisted host, including those the stage does not hedge.
func TestReplicaUnlistedPassThrough(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header http.Header
		skip   bool
	}{
		{"POST without a key", http.MethodPost, nil, false},
		{"upgrade", http.MethodGet, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}, false},
		{"skipped", http.MethodGet, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, got := recordingStub(map[string]time.Duration{"d.test": time.Millisecond})
			h := New(Config{Replicas: Replicas{Addrs: abc}, Skip: func(r *http.Request) bool {
				assert.Equal(t, "Bearer t", r.Header.Get("Authorization"), "Skip sees the caller's request")
				return tt.skip
			}})
			req, err := http.NewRequest(tt.method, "http://d.test/x", nil)
			require.NoError(t, err)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			req.Header.Set("Authorization", "Bearer t")
			resp, err := h.Wrap(stub).RoundTrip(req)
			require.NoError(t, err)
			readAll(t, resp)
			assert.Equal(t, []seen{{host: "d.test", hostHeader: "d.test"}}, got())
		})
	}
}

// TestReplicaDecisionLog: a hedge sent to another replica names it as the
// event's host, and so does its win; the outcome is the caller's request's.
func TestReplicaDecisionLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{latency: map[string]time.Duration{"b.test": 5 * time.Millisecond}}
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		h := New(Config{Delay: 10 * time.Millisecond, Logger: logger, Replicas: Replicas{Addrs: abc[:2]}})
		get(t, h.Wrap(stub.transport()), "https://a.test:80/x")
		assert.Equal(t, []string{"hedge host=https://b.test:80 attempt=2 reason=delay wait=10ms",
			"hedge_won host=https://b.test:80 attempt=2 status=200",
			"outcome host=https://a.test:80 attempt=2 reason=success status=200"}, logs.Lines("host"))
	})
}

// TestReplicaEstimates: each replica is its own host for the adaptive
// delay. Originals to a fast and a slow replica teach each its own p95,
// and a request's hedge fires at the delay of its original's replica.
func TestReplicaEstimates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{latency: map[string]time.Duration{"a.test": 10 * time.Millisecond, "b.test": 50 * time.Millisecond}}
		var fired []time.Duration
		h := New(Config{Replicas: Replicas{Addrs: abc[:2]}, OnHedge: func(i HedgeInfo) { fired = append(fired, i.Elapsed) }})
		rt := h.Wrap(stub.transport())
		for range 2 * MinSamples {
			get(t, rt, "http://a.test/x")
			get(t, rt, "http://b.test/x")
		}
		require.Empty(t, fired, "steady replicas: no hedge")
		stub.latency = map[string]time.Duration{"a.test": time.Second, "b.test": time.Second}
		get(t, rt, "http://a.test/x")
		get(t, rt, "http://b.test/x")
		require.Len(t, fired, 2)
		assert.InDelta(t, 10*time.Millisecond, fired[0], float64(time.Millisecond), "a's p95")
		assert.InDelta(t, 50*time.Millisecond, fired[1], float64(4*time.Millisecond), "b's p95")
	})
}
