package idempotency

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
)

// NeverSent reports whether err proves that the request never left this
// process, so that no byte of it reached the network and the server cannot
// have acted on it. Such a failure may be retried for any method, POST
// included, as gRPC does with transparent retries.
//
// It is decided from the error's types and from where the error was
// raised, never from words a response error could share. It is true for:
//   - a [Rejection] (a stage refused the attempt locally);
//   - a [*net.DNSError] (the host name never resolved);
//   - a [*net.OpError] with Op "dial", including connection refused and dial
//     timeouts (no connection, so nothing was written);
//   - a [*net.OpError] with Op "proxyconnect" (how net/http reports proxy
//     failures, https://go.dev/issue/16997) wrapping one of the above;
//   - a refusal net/http raises before it writes a request it considers
//     malformed (an unsupported scheme; an invalid header, trailer, method
//     or Host; a header HTTP/2 forbids, such as "Connection: foo").
//
// net/http's refusals have no type to match, so each is recognised by the
// whole form of the error net/http returns, from its first word ("net/http:
// invalid header field value for ...", "http2: invalid Connection request
// header: ..."), never by a fragment found inside a message: an HTTP/2
// stream error about an invalid *response* header ("stream error: stream
// ID 1; PROTOCOL_ERROR; invalid header field value for \"x-bad\"") shares
// the words but reports a response to a request the server received.
//
// Everything else may have been sent, at least in part: a reset or EOF
// after the connection was established, a timeout waiting for headers, a
// TLS failure, a protocol violation by the server. A nil err reports false.
func NeverSent(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := AsRejection(err); ok {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		switch opErr.Op {
		case "dial":
			return true
		case "proxyconnect":
			// Only a failure to reach the proxy is provably unsent; a
			// failed CONNECT or TLS handshake has already talked to it.
			return opErr.Err != nil && NeverSent(opErr.Err)
		}
		return false
	}
	return refused(err)
}

// canceled reports whether the attempt ended because its caller gave up:
// the request's context was canceled for a reason other than a deadline
// ([Abandoned]), or, when that context is still live, err is (or wraps)
// context.Canceled. The context decides first because transports do not
// always wrap the context error (an HTTP/1 read may just fail with "use of
// closed network connection" once cancellation closes the conn), and
// because a context canceled with a deadline as its cause (a stage's
// per-attempt timeout, which must stay stoppable and so cannot be a real
// deadline) is a timeout even though its Err is context.Canceled.
func canceled(req *http.Request, err error) bool {
	if req != nil && req.Context().Err() != nil {
		return Abandoned(req.Context())
	}
	return errors.Is(err, context.Canceled)
}

// Abandoned reports whether ctx was canceled for a reason other than a
// deadline: the caller gave up, or an outer stage abandoned the attempt (a
// hedge that lost the race). A context that expired, or was canceled with a
// cause matching context.DeadlineExceeded (a per-attempt timeout), is not
// abandoned: it says the upstream was too slow. Stages use it to exclude
// abandoned attempts from health accounting.
func Abandoned(ctx context.Context) bool {
	if !errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	return !errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

// refusals are the beginnings of the errors net/http returns, unwrapped or
// wrapped only in a *url.Error or a stage's error, for requests it refuses
// to send. Transport.roundTrip checks the URL, headers, trailers and method
// before it looks for a connection; Request.write checks the Host before
// writing a byte; the HTTP/2 client encodes the header block, which can
// fail, before it writes the HEADERS frame. Each entry is a message's
// start, not a fragment: an error raised while reading a response starts
// otherwise ("stream error: ...", "net/http: HTTP/1.x transport connection
// broken: ..."), whatever words it quotes later.
var refusals = [...]string{
	// net/http, before a connection is looked for (transport.go).
	"http: nil Request.URL",
	"http: nil Request.Header",
	"net/http: invalid header ",  // field name or value
	"net/http: invalid trailer ", // field name or value
	"unsupported protocol scheme ",
	"net/http: invalid method ",
	"http: no Host in request URL",
	// net/http HTTP/1, before the first byte is written (request.go).
	"http: invalid Host header",
	// net/http HTTP/2, before the HEADERS frame is written
	// (internal/httpcommon, wrapped as "http2: %w").
	"http2: Request.URL is nil",
	"http2: invalid Host header",
	"http2: invalid :protocol header",
	"http2: invalid request :path ",
	"http2: invalid HTTP header ",
	"http2: invalid HTTP trailer ",
	"http2: invalid Upgrade request header",
	"http2: invalid Transfer-Encoding request header",
	"http2: invalid Connection request header",
	"http2: invalid Trailer key ",
	"http2: request header list larger than peer's advertised limit",
}

// fatal reports whether err is one that no retry can fix: the server's
// certificate is not trusted for this host, or net/http refused the
// request as malformed.
func fatal(err error) bool {
	return untrustedCertificate(err) || refused(err)
}

// untrustedCertificate reports whether err says the server's certificate
// cannot be trusted for this host.
func untrustedCertificate(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalidCert      x509.CertificateInvalidError
		hostname         x509.HostnameError
		verification     *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalidCert) ||
		errors.As(err, &hostname) || errors.As(err, &verification)
}

// refused reports whether err is net/http refusing to send a malformed
// request; see [refusals]. It looks at each error of err's tree whole,
// from its first word.
func refused(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *net.OpError:
		// A network error is never one, and a net.OpError without an
		// Err panics in Error.
		return false
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if refused(inner) {
				return true
			}
		}
		return false
	}
	msg := err.Error()
	for _, r := range refusals {
		if strings.HasPrefix(msg, r) {
			return true
		}
	}
	return refused(errors.Unwrap(err))
}

// classifyError implements the error half of [Default]'s Classify; err is
// non-nil. Order matters: a Rejection is reported even when the context was
// also canceled, and a cancellation even when it surfaced as another error.
func classifyError(req *http.Request, err error) Outcome {
	if _, ok := AsRejection(err); ok {
		return Outcome{Kind: Rejected, NeverSent: true}
	}
	neverSent := NeverSent(err)
	switch {
	case canceled(req, err):
		return Outcome{Kind: Canceled, NeverSent: neverSent}
	case fatal(err):
		return Outcome{Kind: Fatal, NeverSent: neverSent}
	default:
		return Outcome{Kind: Transient, NeverSent: neverSent}
	}
}
