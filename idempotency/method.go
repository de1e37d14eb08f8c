package idempotency

import (
	"net/http"
	"strings"
)

// IdempotentMethod reports whether method is idempotent per RFC 9110
// §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT and DELETE. The comparison is
// exact and case-sensitive, as in net/http, because methods are
// case-sensitive tokens ("get" is a different, unknown method). The empty
// string means GET, as it does for [http.Request.Method].
func IdempotentMethod(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// Key returns the request's idempotency key: the first Idempotency-Key
// value (IETF httpapi draft) if it is non-empty after trimming spaces,
// else the first X-Idempotency-Key value, trimmed; "" if neither is set.
//
// Unlike net/http, which treats the mere presence of either header as a
// promise of idempotency, an empty or blank key does not count: a server
// cannot deduplicate attempts on an empty key.
func Key(h http.Header) string {
	if k := strings.TrimSpace(h.Get("Idempotency-Key")); k != "" {
		return k
	}
	return strings.TrimSpace(h.Get("X-Idempotency-Key"))
}

// BodyReplayable reports whether req's body can be sent again: it has no
// body, its body is [http.NoBody], or it has a GetBody to obtain a fresh
// copy. [http.NewRequest] sets GetBody for *bytes.Buffer, *bytes.Reader and
// *strings.Reader bodies. Stages never buffer a body to make it replayable.
// A nil req reports false.
func BodyReplayable(req *http.Request) bool {
	if req == nil {
		return false
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// Replayable reports whether req may be sent more than once, by a retry or
// a hedge: its method is idempotent or it carries an idempotency [Key], and
// its body is replayable ([BodyReplayable]). A POST or PATCH without a key
// is never replayable, whatever its body, because the server may apply it
// twice. A nil req is not replayable.
//
// The rule follows net/http's own Transport (which retries replayable
// requests on a dead keep-alive connection), plus PUT and DELETE, which
// RFC 9110 also defines as idempotent.
//
// A request that was provably never sent may be retried even when it is
// not replayable; see [NeverSent].
func Replayable(req *http.Request) bool {
	if req == nil {
		return false
	}
	return (IdempotentMethod(req.Method) || Key(req.Header) != "") && BodyReplayable(req)
}
