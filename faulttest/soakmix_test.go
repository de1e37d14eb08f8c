package faulttest_test

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// The soak's upstreams: several hosts, each failing its own way, so that a
// 429 pauses, and an open breaker refuses, only the host that earned it —
// as in production, where one client calls many hosts. In round 2's first
// soak a single host served every fault: its breaker was open for most of
// the run (6,784 of 7,719 calls were ErrOpen), and a throttle in the
// pipeline, pausing that one host on every 429, refused nearly everything
// (14,011 of 14,501 calls).
//
// Every name resolves to a loopback server of the test: the plain hosts to
// one fault server, which looks at the Host header to pick the host's
// fault; h2 to an HTTP/2 fault server; h2bad to an HTTP/2 server violating
// the protocol; up to a server that upgrades.
type soakHost struct {
	name   string
	weight int    // share of the calls, out of soakWeights
	scheme string // "https" for the h2 server
}

var soakHosts = []soakHost{
	{"a", 12, "http"}, {"b", 12, "http"}, {"c", 12, "http"}, {"d", 12, "http"},
	{"quota", 12, "http"}, // admits soakQuota requests a second, answers the rest 429
	{"deadlb", 5, "http"}, // a dead load balancer: "503, Retry-After: 0" to everything
	{"slow", 10, "http"},  // slow headers, black holes, stalled error bodies
	{"h2", 15, "https"},   // HTTP/2, with stream resets
	{"h2bad", 5, "https"}, // HTTP/2, an invalid response header on every answer (h2badRoute)
	{"up", 5, "http"},     // protocol upgrades (GET with Upgrade: echo): a 101 and an echo
}

const soakWeights = 100

// soakQuota is how many requests a second the quota host admits: half
// or less of what the soak sends it on the loaded 2-core machine (12% of
// 100-170 calls a second), so that it answers 429 whenever it is not
// paced.
const soakQuota = 5

// pickHost draws a host by weight.
func pickHost() soakHost {
	p := rand.IntN(soakWeights)
	for _, h := range soakHosts {
		if p < h.weight {
			return h
		}
		p -= h.weight
	}
	return soakHosts[0]
}

// weighted is a mix of faults, each with its share in per mille.
type weighted []struct {
	permille int
	fault    testkit.Fault
}

func (w weighted) draw() testkit.Fault {
	p := rand.IntN(1000)
	for _, m := range w {
		if p < m.permille {
			return m.fault
		}
		p -= m.permille
	}
	return testkit.FaultOK()
}

// mixedFaults: a host that mostly works, failing every way a running
// server can one time in four. Its breaker seldom opens: five failures in
// a row, or half of twenty, are rare at that rate.
var mixedFaults = weighted{
	{40, testkit.FaultStatus(503)},
	{20, testkit.FaultStatus(500)},
	{10, testkit.FaultStatus(502)},
	{10, testkit.FaultStatus(504)},
	{10, testkit.FaultThrottle("0")},
	{10, testkit.FaultThrottle("garbage")},
	{5, testkit.FaultThrottle("1")},
	{10, fault503NoPause},
	{25, testkit.FaultOf(testkit.FaultResetBeforeHeaders)},
	{15, testkit.FaultOf(testkit.FaultResetMidBody)},
	{10, testkit.FaultOf(testkit.FaultTruncatedBody)},
	{40, testkit.FaultSlow(40 * time.Millisecond)},
	{15, testkit.FaultSlow(250 * time.Millisecond)},
	{5, testkit.FaultOf(testkit.FaultBlackHole)},
	{15, testkit.Fault{Kind: testkit.FaultStalledBody, Status: 503}},
}

// fault503NoPause is a 503 whose Retry-After asks for no pause.
var fault503NoPause = testkit.Fault{Status: 503, RetryAfter: "0"}

// slowFaults: a host whose answers are late or never come.
var slowFaults = weighted{
	{200, testkit.FaultSlow(40 * time.Millisecond)},
	{250, testkit.FaultSlow(250 * time.Millisecond)},
	{50, testkit.FaultOf(testkit.FaultBlackHole)},
	{100, testkit.Fault{Kind: testkit.FaultStalledBody, Status: 503}},
}

// h2Faults: an HTTP/2 host whose streams are sometimes reset.
var h2Faults = weighted{
	{60, testkit.FaultOf(testkit.FaultResetBeforeHeaders)},
	{40, testkit.FaultOf(testkit.FaultResetMidBody)},
	{60, testkit.FaultStatus(503)},
	{50, testkit.FaultSlow(40 * time.Millisecond)},
	{10, testkit.FaultOf(testkit.FaultTruncatedBody)},
}

// quotaWindow counts the quota host's admissions in the current second.
type quotaWindow struct {
	second atomic.Int64
	used   atomic.Int64
}

func (q *quotaWindow) admit(now time.Time) bool {
	s := now.Unix()
	if old := q.second.Load(); old != s && q.second.CompareAndSwap(old, s) {
		q.used.Store(0)
	}
	return q.used.Add(1) <= soakQuota
}

// soakScript is the plain fault server's script: each host's own faults.
func soakScript(quota *quotaWindow) func(int, *http.Request) testkit.Fault {
	return func(_ int, r *http.Request) testkit.Fault {
		switch name, _, _ := strings.Cut(r.Host, "."); name {
		case "quota":
			if quota.admit(time.Now()) {
				return testkit.FaultOK()
			}
			if rand.IntN(2) == 0 {
				return testkit.FaultThrottle("1")
			}
			return testkit.FaultThrottle("")
		case "deadlb":
			return fault503NoPause
		case "slow":
			return slowFaults.draw()
		}
		return mixedFaults.draw()
	}
}

// h2Script is the HTTP/2 fault server's script.
func h2Script(int, *http.Request) testkit.Fault { return h2Faults.draw() }

// upgradeServer answers every request with a 101 and echoes one line back
// in capitals, sometimes after longer than a hedge delay, so that a hedge
// stage that hedged upgrades would show it.
func upgradeServer(t *testing.T, received *atomic.Int64) string {
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		if rand.IntN(4) == 0 {
			time.Sleep(60 * time.Millisecond)
		}
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(soakCallTimeout))
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString(strings.ToUpper(line))
		rw.Flush()
	}))
	return srv.Listener.Addr().String()
}

// soakTransport is the soak's base transport: every plain host is dialed
// at the fault server (up at the upgrade server), h2 goes to the HTTP/2
// server over TLS, whose certificate names example.com, and h2bad to bad.
func soakTransport(t *testing.T, plain, h2 *testkit.FaultServer, bad *h2badRoute, upAddr string) *soakRouter {
	faultAddr := plain.Listener.Addr().String()
	var d net.Dialer
	tr := plain.Transport(t)
	tr.MaxIdleConnsPerHost = soakCallers
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "up.") {
			return d.DialContext(ctx, network, upAddr)
		}
		return d.DialContext(ctx, network, faultAddr)
	}
	h2Addr := h2.Listener.Addr().String()
	tr2 := h2.Transport(t)
	tr2.MaxIdleConnsPerHost = soakCallers
	tr2.TLSClientConfig.ServerName = "example.com"
	tr2.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, h2Addr)
	}
	return &soakRouter{plain: tr, h2: tr2, bad: bad}
}

// soakRouter sends h2bad's requests to bad, the other https requests over
// h2, the rest over plain.
type soakRouter struct {
	plain, h2 *http.Transport
	bad       *h2badRoute
}

func (s *soakRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case strings.HasPrefix(req.URL.Host, "h2bad."):
		return s.bad.RoundTrip(req)
	case req.URL.Scheme == "https":
		return s.h2.RoundTrip(req)
	}
	return s.plain.RoundTrip(req)
}

func (s *soakRouter) CloseIdleConnections() {
	s.plain.CloseIdleConnections()
	s.h2.CloseIdleConnections()
	s.bad.tr.CloseIdleConnections()
}

// soakCell names the cells of issue 11 that TestSoak checks were served:
// a 429, an error page whose body never comes, a reset; "" for the rest.
func soakCell(f testkit.Fault) string {
	switch {
	case f.Kind == testkit.FaultNone && f.Status == http.StatusTooManyRequests:
		return "429"
	case f.Kind == testkit.FaultStalledBody:
		return "stalled-body"
	case f.Kind == testkit.FaultResetBeforeHeaders || f.Kind == testkit.FaultResetMidBody:
		return "reset"
	}
	return ""
}

// soakPathHost returns the host a soak path ("/soak/<host>/...") was
// sent to.
func soakPathHost(path string) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(path, "/soak/"), "/")
	return host
}

// soakURL is the URL of a call to host h (the names resolve to the
// test's servers in soakTransport, whatever the port).
func soakURL(h soakHost, path string) string {
	return h.scheme + "://" + h.name + ".soak.test" + path
}

// upgrade checks an upgraded connection: the line written comes back in
// capitals. It closes the connection.
func upgrade(resp *http.Response, line string) bool {
	defer resp.Body.Close()
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		return false
	}
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return false
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && got == strings.ToUpper(line)+"\n"
}
