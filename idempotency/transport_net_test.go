package idempotency

// Proofs of the error rules against real sockets, servers and TLS
// handshakes, so the classification is checked against the errors the
// installed net/http actually returns, not only against constructed ones.

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// TestClassifyDeadlineIsNotCanceled: a request whose deadline passed timed
// out; that is the upstream's slowness, not the caller giving up.
func TestClassifyDeadlineIsNotCanceled(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	req := newRequest(t, http.MethodGet, noBody, nil).WithContext(ctx)
	_, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		t.Fatal("RoundTrip with an expired deadline succeeded")
	}
	if got := Default.Classify(req, nil, err); got.Kind != Transient {
		t.Errorf("Classify(%v) = %+v, want transient", err, got)
	}
}

// TestNeverSentClosedPort proves the dial rule on a real socket: nothing
// listens on the port, so the POST cannot have reached anyone.
func TestNeverSentClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/charge", strings.NewReader("amount=100"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("POST to closed port %s succeeded", addr)
	}
	if !NeverSent(err) {
		t.Errorf("NeverSent(%v) = false, want true", err)
	}
	if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Transient, NeverSent: true}); got != want {
		t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
	}
}

// TestNeverSentDNS resolves a name under .invalid (RFC 6761), which can
// never exist; resolvers answer NXDOMAIN at once.
func TestNeverSentDNS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://tailguard-test.invalid/charge", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to a .invalid host succeeded")
	}
	var dns *net.DNSError
	if !errors.As(err, &dns) {
		// Some sandboxes have no resolver at all; the constructed DNS
		// errors in TestNeverSent still cover the rule.
		t.Skipf("resolver did not return a *net.DNSError: %v", err)
	}
	if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Transient, NeverSent: true}); got != want {
		t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
	}
}

// TestSentThenDropped proves the converse: once the server has read the
// request, a dropped connection is not "never sent", whether it ends in a
// clean EOF or a reset.
func TestSentThenDropped(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reset bool // close with SO_LINGER 0, so the kernel sends RST
	}{
		{"EOF", false},
		{"reset", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // the request arrived in full
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return // the client then sees a 200 and the test fails there
				}
				if tcp, ok := conn.(*net.TCPConn); ok && tt.reset {
					_ = tcp.SetLinger(0)
				}
				conn.Close()
			}))
			defer srv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()

			req, err := http.NewRequest(http.MethodPost, srv.URL+"/charge", strings.NewReader("amount=100"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("RoundTrip succeeded with %s", resp.Status)
			}
			if NeverSent(err) {
				t.Errorf("NeverSent(%v) = true after the server read the request", err)
			}
			if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Transient}); got != want {
				t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
			}
		})
	}
}

// TestNeverSentHTTP2ResponseError is issue 11's bug 6 on a real HTTP/2
// connection: the server receives the POST and answers with an invalid
// response header value. net/http's error ("stream error: ...; invalid
// header field value for \"x-bad\"") quotes words of its refusal of an
// invalid request header, but this POST was received: it must not be
// called never-sent (a caller trusting that would send it twice), and the
// protocol violation is a transient failure, not a malformed request.
func TestNeverSentHTTP2ResponseError(t *testing.T) {
	srv := testkit.NewH2Violator(t, "x-bad", "a\x01b")
	client := srv.Client()
	defer client.CloseIdleConnections()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/charge", strings.NewReader("amount=100"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Transport.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a response with an invalid header value was accepted")
	}
	if n := srv.Requests(); n != 1 {
		t.Fatalf("the server received %d requests, want 1", n)
	}
	if NeverSent(err) {
		t.Errorf("NeverSent(%v) = true for a POST the server received", err)
	}
	if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Transient}); got != want {
		t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
	}
}

// TestNeverSentHTTP2Refused is the converse on the same kind of
// connection: a request header HTTP/2 forbids is refused by net/http's
// HTTP/2 client after it has a connection but before it writes the
// request, so the server receives nothing.
func TestNeverSentHTTP2Refused(t *testing.T) {
	srv := testkit.NewH2Violator(t, "x-bad", "a\x01b")
	client := srv.Client()
	defer client.CloseIdleConnections()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/charge", strings.NewReader("amount=100"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "foo")
	resp, err := client.Transport.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a request with Connection: foo was sent over HTTP/2")
	}
	if n := srv.Requests(); n != 0 {
		t.Fatalf("the server received %d requests, want 0", n)
	}
	if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Fatal, NeverSent: true}); got != want {
		t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
	}
}

// TestFatalUntrustedCertificate uses a real TLS handshake against
// httptest's self-signed certificate, which the system roots do not trust.
func TestFatalUntrustedCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is the point
	srv.StartTLS()
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("handshake with an untrusted certificate succeeded")
	}
	if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Fatal}); got != want {
		t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
	}
}

// TestFatalMalformedRequests feeds net/http's Transport requests it
// refuses, so the message fragments are checked against the real errors of
// the installed Go version.
func TestFatalMalformedRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	direct := &http.Transport{}
	defer direct.CloseIdleConnections()
	// net/http blanks an invalid Host instead of failing, except when it
	// talks to a proxy.
	proxied := &http.Transport{Proxy: http.ProxyURL(u)}
	defer proxied.CloseIdleConnections()

	tests := []struct {
		name  string
		build func(req *http.Request)
		proxy bool
	}{
		{"unsupported scheme", func(r *http.Request) { r.URL.Scheme = "ftp" }, false},
		{"invalid header name", func(r *http.Request) { r.Header["Bad Name"] = []string{"x"} }, false},
		{"invalid header value", func(r *http.Request) { r.Header["X-Bad"] = []string{"a\nb"} }, false},
		{"invalid trailer", func(r *http.Request) { r.Trailer = http.Header{"Bad Name": {"x"}} }, false},
		{"invalid method", func(r *http.Request) { r.Method = "BAD METHOD" }, false},
		{"nil URL", func(r *http.Request) { r.URL = nil }, false},
		{"nil Header", func(r *http.Request) { r.Header = nil }, false},
		{"no Host", func(r *http.Request) { r.URL.Host = "" }, false},
		{"invalid Host header", func(r *http.Request) { r.Host = "bad host" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: u.Host, Path: "/"}, Header: http.Header{}}
			req = req.WithContext(context.Background())
			tt.build(req)
			tr := direct
			if tt.proxy {
				tr = proxied
			}
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("malformed request was sent")
			}
			if got, want := Default.Classify(req, nil, err), (Outcome{Kind: Fatal, NeverSent: true}); got != want {
				t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
			}
		})
	}
}

// TestCanceledInFlight cancels a request while the server holds it, as a
// caller or a winning hedge does.
func TestCanceledInFlight(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-started
		cancel()
	}()
	resp, err := tr.RoundTrip(req)
	<-done
	if err == nil {
		resp.Body.Close()
		t.Fatal("canceled request succeeded")
	}
	if got := Default.Classify(req, nil, err); got.Kind != Canceled {
		t.Errorf("Classify(%v) = %+v, want canceled", err, got)
	}
}
