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
// It is true for:
//   - a [Rejection] (a stage refused the attempt locally);
//   - a request net/http refused as malformed before writing it (an
//     unsupported scheme, an invalid header, method or Host, ...);
//   - a [*net.DNSError] (the host name never resolved);
//   - a [*net.OpError] with Op "dial", including connection refused and dial
//     timeouts (no connection, so nothing was written);
//   - a [*net.OpError] with Op "proxyconnect" (how net/http reports proxy
//     failures, https://go.dev/issue/16997) wrapping one of the above.
//
// Everything else may have been sent, at least in part: a reset or EOF
// after the connection was established, a timeout waiting for headers, a
// TLS failure. A nil err reports false.
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
	return malformed(err)
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

// malformedRequest lists fragments of the errors net/http (HTTP/1 and
// HTTP/2) returns, before sending anything, for requests it will never
// send. They are plain fmt errors with no type to match, so the text is
// all there is; the fragments are specific enough not to appear in
// network errors.
var malformedRequest = [...]string{
	"unsupported protocol scheme",
	"invalid header field", // HTTP/1: invalid header field name/value
	"invalid HTTP header",  // HTTP/2: invalid HTTP header name/value
	"invalid trailer",
	"invalid HTTP trailer",
	"invalid method",
	"nil Request.URL",
	"nil Request.Header",
	"no Host in request URL",
	"invalid Host header",
}

// fatal reports whether err is one that no retry can fix: the server's
// certificate is not trusted for this host, or net/http refused the
// request as malformed.
func fatal(err error) bool {
	return untrustedCertificate(err) || malformed(err)
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

// malformed reports whether err is net/http refusing to send a request it
// considers malformed; see [malformedRequest].
func malformed(err error) bool {
	// A network error is never one, and a net.OpError without an Err
	// panics in Error.
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return false
	}
	msg := err.Error()
	for _, m := range malformedRequest {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
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
