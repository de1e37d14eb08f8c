package idempotency

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

// timeoutErr is a net.Error that timed out, like a read deadline.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func dialErr(err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 80}, Err: err}
}

func urlErr(err error) error {
	return &url.Error{Op: "Post", URL: "http://example.com/", Err: err}
}

// h2StreamErr mimics net/http's unexported http2StreamError, whose message
// quotes its cause; TestNeverSentHTTP2ResponseError gets the real one.
type h2StreamErr string

func (e h2StreamErr) Error() string {
	return "stream error: stream ID 1; PROTOCOL_ERROR; " + string(e)
}

var (
	dnsErr = &net.DNSError{Err: "no such host", Name: "api.invalid", IsNotFound: true}
	reset  = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	pipe   = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
)

func TestNeverSent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"rejection", rejectErr{rejected: true}, true},
		{"wrapped rejection", fmt.Errorf("breaker: %w", rejectErr{rejected: true}), true},
		{"opted-out rejection", rejectErr{}, false},
		{"DNS error", dnsErr, true},
		{"DNS error in dial in url.Error", urlErr(dialErr(dnsErr)), true},
		{"connection refused", urlErr(dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED))), true},
		{"dial timeout", dialErr(timeoutErr{}), true},
		{"proxy dial refused", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: dialErr(syscall.ECONNREFUSED)}, true},
		{"proxy DNS failure", urlErr(&net.OpError{Op: "proxyconnect", Net: "tcp", Err: dnsErr}), true},
		{"proxy closed after connect", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: io.EOF}, false},
		{"proxyconnect without cause", &net.OpError{Op: "proxyconnect", Net: "tcp"}, false},
		{"reset after connect", urlErr(reset), false},
		// net/http refusing a request it will not write, by the error's
		// whole form; and response errors that share its words.
		{"refused: invalid request header", urlErr(errors.New(`net/http: invalid header field value for "X"`)), true},
		{"refused: HTTP/2 Connection header", fmt.Errorf("http2: %w", errors.New(`invalid Connection request header: ["foo"]`)), true},
		{"HTTP/2 invalid response header value", urlErr(h2StreamErr(`invalid header field value for "x-bad"`)), false},
		{"HTTP/2 invalid response header name", urlErr(h2StreamErr(`invalid header field name "X-Bad"`)), false},
		{"HTTP/2 invalid response pseudo-header", urlErr(h2StreamErr(`invalid pseudo-header ":weird"`)), false},
		{"HTTP/1 malformed response header", fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w",
			errors.New(`malformed MIME header line: "X-Bad: a\x01b"`)), false},
		{"refusal words quoted inside another error", errors.New(`upstream said: net/http: invalid header field name "a b"`), false},
		{"refusal after a network error", fmt.Errorf("%w: net/http: invalid method", reset), false},
		{"broken pipe", pipe, false},
		{"bare ECONNREFUSED", syscall.ECONNREFUSED, false}, // no proof it came from dial
		{"EOF", io.EOF, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, false},
		{"read timeout", timeoutErr{}, false},
		{"deadline", context.DeadlineExceeded, false},
		{"TLS", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, false},
		{"unknown", errors.New("something odd"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeverSent(tt.err); got != tt.want {
				t.Errorf("NeverSent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestClassifyErrors covers every error row of the classification, in the
// documented order, with constructed errors.
func TestClassifyErrors(t *testing.T) {
	hostnameErr := x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"example.com"}}, Host: "example.org"}
	tests := []struct {
		name     string
		err      error
		canceled bool // the request's context is canceled
		want     Outcome
	}{
		// Rejected comes first, even over cancellation.
		{"rejection", rejectErr{rejected: true}, false, Outcome{Rejected, true}},
		{"wrapped rejection", urlErr(fmt.Errorf("breaker: %w", rejectErr{rejected: true})), false, Outcome{Rejected, true}},
		{"rejection while canceled", rejectErr{rejected: true}, true, Outcome{Rejected, true}},
		{"opted-out rejection", rejectErr{}, false, Outcome{Transient, false}},
		// Canceled.
		{"context.Canceled", context.Canceled, false, Outcome{Canceled, false}},
		{"wrapped Canceled", urlErr(context.Canceled), false, Outcome{Canceled, false}},
		{"canceled ctx, other error", errors.New("use of closed network connection"), true, Outcome{Canceled, false}},
		{"canceled ctx, EOF", io.EOF, true, Outcome{Canceled, false}},
		{"canceled during dial", dialErr(context.Canceled), false, Outcome{Canceled, true}},
		{"canceled ctx over fatal", errors.New(`unsupported protocol scheme "ftp"`), true, Outcome{Canceled, true}},
		// Fatal.
		{"unknown authority", x509.UnknownAuthorityError{}, false, Outcome{Fatal, false}},
		{"invalid certificate", x509.CertificateInvalidError{Reason: x509.Expired}, false, Outcome{Fatal, false}},
		{"hostname mismatch", urlErr(hostnameErr), false, Outcome{Fatal, false}},
		{"verification error", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), false, Outcome{Fatal, false}},
		{"unsupported scheme", urlErr(errors.New(`unsupported protocol scheme "ftp"`)), false, Outcome{Fatal, true}},
		{"invalid header name", errors.New(`net/http: invalid header field name "a b"`), false, Outcome{Fatal, true}},
		{"invalid header value", errors.New(`net/http: invalid header field value for "X"`), false, Outcome{Fatal, true}},
		{"invalid HTTP/2 header", fmt.Errorf("http2: %w", errors.New(`invalid HTTP header name "a b"`)), false, Outcome{Fatal, true}},
		{"HTTP/2 Connection header", fmt.Errorf("http2: %w", errors.New(`invalid Connection request header: ["foo"]`)), false, Outcome{Fatal, true}},
		{"invalid trailer", errors.New(`net/http: invalid trailer field name "a b"`), false, Outcome{Fatal, true}},
		{"invalid HTTP/2 trailer", fmt.Errorf("http2: %w", errors.New(`invalid HTTP trailer value for header "X"`)), false, Outcome{Fatal, true}},
		// A protocol violation by the server is a transient failure of a
		// request it received, however its message reads.
		{"HTTP/2 invalid response header", urlErr(h2StreamErr(`invalid header field value for "x-bad"`)), false, Outcome{Transient, false}},
		{"invalid method", errors.New(`net/http: invalid method "G T"`), false, Outcome{Fatal, true}},
		{"nil URL", errors.New("http: nil Request.URL"), false, Outcome{Fatal, true}},
		{"nil Header", errors.New("http: nil Request.Header"), false, Outcome{Fatal, true}},
		{"no Host", errors.New("http: no Host in request URL"), false, Outcome{Fatal, true}},
		{"invalid Host header", errors.New("http: invalid Host header"), false, Outcome{Fatal, true}},
		// Transient, with NeverSent computed.
		{"deadline", context.DeadlineExceeded, false, Outcome{Transient, false}},
		{"wrapped deadline", urlErr(context.DeadlineExceeded), false, Outcome{Transient, false}},
		{"net.Error timeout", timeoutErr{}, false, Outcome{Transient, false}},
		{"os deadline", os.ErrDeadlineExceeded, false, Outcome{Transient, false}},
		{"reset", urlErr(reset), false, Outcome{Transient, false}},
		{"broken pipe", pipe, false, Outcome{Transient, false}},
		{"EOF", io.EOF, false, Outcome{Transient, false}},
		{"unexpected EOF", urlErr(io.ErrUnexpectedEOF), false, Outcome{Transient, false}},
		{"connection refused", urlErr(dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED))), false, Outcome{Transient, true}},
		{"dial timeout", dialErr(timeoutErr{}), false, Outcome{Transient, true}},
		{"DNS", urlErr(dialErr(dnsErr)), false, Outcome{Transient, true}},
		{"proxy dial", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: dialErr(syscall.ECONNREFUSED)}, false, Outcome{Transient, true}},
		{"unknown", errors.New("something odd"), false, Outcome{Transient, false}},
		{"OpError without Err", &net.OpError{Op: "read", Net: "tcp"}, false, Outcome{Transient, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.canceled {
				cancel()
			}
			req := newRequest(t, http.MethodPost, noBody, nil).WithContext(ctx)
			if got := Default.Classify(req, nil, tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %+v, want %+v", tt.err, got, tt.want)
			}
		})
	}
}

// TestClassifyErrorNilRequest checks that a nil request does not panic the
// context check.
func TestClassifyErrorNilRequest(t *testing.T) {
	if got := Default.Classify(nil, nil, io.EOF); got != (Outcome{Kind: Transient}) {
		t.Errorf("Classify(nil, nil, EOF) = %+v, want transient", got)
	}
}

func TestAbandoned(t *testing.T) {
	live := context.Background()
	canceled, cancel := context.WithCancel(live)
	cancel()
	lostHedge, cancelHedge := context.WithCancelCause(live)
	cancelHedge(errors.New("hedge: lost the race"))
	attemptTimeout, cancelTimeout := context.WithCancelCause(live)
	cancelTimeout(fmt.Errorf("retry: attempt timed out: %w", context.DeadlineExceeded))
	expired, cancelExpired := context.WithDeadline(live, time.Unix(0, 0))
	defer cancelExpired()

	tests := []struct {
		name      string
		ctx       context.Context
		abandoned bool
		kind      Kind // Classify of a transport error under ctx
	}{
		{"live", live, false, Transient},
		{"canceled by the caller", canceled, true, Canceled},
		{"canceled with a cause (lost hedge)", lostHedge, true, Canceled},
		{"canceled with a deadline cause (attempt timeout)", attemptTimeout, false, Transient},
		{"deadline passed", expired, false, Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Abandoned(tt.ctx); got != tt.abandoned {
				t.Errorf("Abandoned = %v, want %v", got, tt.abandoned)
			}
			req, _ := http.NewRequestWithContext(tt.ctx, http.MethodGet, "http://x.test/", nil)
			// net/http returns the context's cause for a canceled request.
			err := errors.New("use of closed network connection")
			if tt.ctx.Err() != nil {
				err = context.Cause(tt.ctx)
			}
			if got := Default.Classify(req, nil, err).Kind; got != tt.kind {
				t.Errorf("Classify = %v, want %v", got, tt.kind)
			}
		})
	}
}
