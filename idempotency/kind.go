package idempotency

import "strconv"

// Kind is what one attempt's outcome means for retrying and for upstream
// health. Retry stages look at [Kind.Retryable]; breakers count [Transient]
// as a failure, ignore [Canceled] and [Rejected] (the upstream said nothing
// about its health), and decide themselves about [Throttled].
//
// The zero Kind is [Success].
type Kind uint8

const (
	// Success is a 1xx, 2xx or 3xx response.
	Success Kind = iota
	// Final is a 4xx response other than 408, 425 and 429: the upstream is
	// healthy and answered deliberately, so repeating the request would get
	// the same answer.
	Final
	// Transient is a failure that may not happen again: 408, 425, 500, 502,
	// 503 without a Retry-After asking for a pause, 504 and every other 5xx except 501
	// and 505; connection resets and refusals, timeouts, io.EOF and
	// io.ErrUnexpectedEOF, and any transport error not otherwise classified.
	// Unknown errors are Transient because a retry is the only way to learn
	// more, and the retry stage still applies its budget and method rules.
	Transient
	// Throttled is a 429 response (with or without Retry-After), a 503
	// whose Retry-After asks for a pause (a positive delay), or a 403 that
	// says it is a rate limit (such a Retry-After, or
	// X-RateLimit-Remaining: 0): the upstream asked the client to slow
	// down, which says more about load than about health.
	Throttled
	// Canceled means the request's context was canceled: the caller (or a
	// hedge that lost the race) gave up, so the attempt is neither a
	// success nor a failure of the upstream.
	Canceled
	// Fatal means retrying cannot help: 501, 505, TLS certificate errors,
	// unsupported URL schemes and requests net/http refuses as malformed.
	Fatal
	// Rejected means a stage refused the attempt without sending it; the
	// error implements [Rejection].
	Rejected
)

var kindNames = [...]string{
	Success:   "success",
	Final:     "final",
	Transient: "transient",
	Throttled: "throttled",
	Canceled:  "canceled",
	Fatal:     "fatal",
	Rejected:  "rejected",
}

// String returns the lower-case name of k ("success", "final", ...), or
// "Kind(n)" for a value outside the defined constants.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Retryable reports whether another attempt may succeed where this one did
// not: true for [Transient] and [Throttled]. Whether a retry is allowed also
// depends on the request ([Replayable]) and on [Outcome.NeverSent].
func (k Kind) Retryable() bool {
	return k == Transient || k == Throttled
}

// valid reports whether k is one of the defined constants.
func (k Kind) valid() bool {
	return int(k) < len(kindNames)
}
