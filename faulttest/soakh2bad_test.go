package faulttest_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// h2badHeader is the response header field the soak's h2bad host sends
// with every answer: its value holds a control byte, which HTTP/2 forbids.
const h2badHeader = "x-bad"

// h2Violation is how the protocol violation reaches a caller: net/http's
// HTTP/2 stream error naming the invalid header field.
var h2Violation = cause{name: "h2 protocol violation", match: func(err error) bool {
	return err != nil && strings.Contains(err.Error(), "stream error") &&
		strings.Contains(err.Error(), `invalid header field value for "`+h2badHeader+`"`)
}}

// h2badRoute is the soak's way to h2bad, an HTTP/2 server that answers
// every request with an invalid response header (issue 11's protocol
// violation cell; [testkit.H2Violator]). The server received each request
// whole, so the failure is no proof that a POST was never sent. The server
// cannot tell requests apart, so the route counts, by path, the attempts
// at a POST without a key that may have reached it: every one handed to
// the transport except those that failed provably unsent, an upper bound
// on what the server received.
type h2badRoute struct {
	srv *testkit.H2Violator
	tr  *http.Transport

	mu      sync.Mutex
	unkeyed map[string]int // path of each POST without a key → attempts that may have reached the server
}

func newH2badRoute(t *testing.T) *h2badRoute {
	srv := testkit.NewH2Violator(t, h2badHeader, "a\x01b")
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = soakCallers
	tr.TLSClientConfig.ServerName = "example.com"
	addr := srv.Listener.Addr().String()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return &h2badRoute{srv: srv, tr: tr, unkeyed: make(map[string]int)}
}

func (r *h2badRoute) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.tr.RoundTrip(req)
	if req.Method == http.MethodPost && req.Header.Get("Idempotency-Key") == "" && (err == nil || !idempotency.NeverSent(err)) {
		r.mu.Lock()
		r.unkeyed[req.URL.Path]++
		r.mu.Unlock()
	}
	return resp, err
}

// check asserts h2bad's cell: the server received requests and callers
// saw the violation; no POST without a key may have reached it twice; and
// its failures counted, so its breaker opened and refused calls (in the
// throttle pipeline adaptive throttling may refuse them first).
func (r *h2badRoute) check(t *testing.T, tally *soakTally, opens map[string]int) {
	t.Helper()
	h := tally.host("h2bad")
	r.mu.Lock()
	posts, twice := len(r.unkeyed), 0
	for _, n := range r.unkeyed {
		if n > 1 {
			twice++
		}
	}
	r.mu.Unlock()
	t.Logf("soak: h2bad received %d requests; %d POSTs without a key reached it, %d of them more than once; its breaker opened %d times",
		r.srv.Requests(), posts, twice, opens["h2bad"])
	if r.srv.Requests() == 0 || h.outcomes["error: "+h2Violation.name] == 0 {
		t.Errorf("h2bad received %d requests and callers saw %d protocol violations: the soak did not exercise the cell",
			r.srv.Requests(), h.outcomes["error: "+h2Violation.name])
	}
	if posts == 0 {
		t.Errorf("no POST without a key was sent to h2bad: the soak did not check that it arrives at most once")
	}
	if twice > 0 {
		t.Errorf("%d POSTs without Idempotency-Key may have reached h2bad more than once", twice)
	}
	if opens["h2bad"] == 0 || h.refusals == 0 {
		t.Errorf("h2bad: breaker opened %d times, %d of %d calls refused; want its protocol violations counted as failures",
			opens["h2bad"], h.refusals, h.calls)
	}
}
