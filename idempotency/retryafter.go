package idempotency

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// maxDuration is the largest time.Duration; delays beyond it are clamped.
const maxDuration = time.Duration(math.MaxInt64)

// RetryAfter returns the delay requested by resp's first Retry-After header
// value, measured from time.Now; see [ParseRetryAfter]. It reports false
// when resp is nil or carries no valid Retry-After.
func RetryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	return ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

// PauseAsked returns the pause a response with header h asks for at now:
// the delay its Retry-After names, when that is valid and positive. A
// Retry-After of 0, or a date already past, asks for no pause, and neither
// does a missing or malformed one: ok is false. Every stage decides
// "asks a pause" here (see ParseRetryAfter for the forms read):
//
//   - the retry stage waits a pause out instead of its backoff, and backs
//     off as after any failure when none is asked;
//   - the hedge stage stops hedging a request that was asked for a pause;
//   - the throttle closes its host's gate for it;
//   - [Default] calls a 503 (or a 403) that asks for one Throttled, which
//     a breaker does not count against the host.
//
// A response that asks for no pause is a failure like any other, not a
// throttle: a dead load balancer answering every request "503,
// Retry-After: 0" must be backed off from, hedged and counted, not
// retried at once.
func PauseAsked(h http.Header, now time.Time) (time.Duration, bool) {
	d, ok := ParseRetryAfter(h.Get("Retry-After"), now)
	return d, ok && d > 0
}

// ParseRetryAfter parses a Retry-After value (RFC 9110 §10.2.3) and returns
// the delay it asks for, relative to now, and whether value was valid.
//
// Surrounding spaces are trimmed. The delay-seconds form is 1*DIGIT only, so
// "+5", "-1", "5.5" and "0x10" are invalid rather than guessed at. Values too
// large for a [time.Duration] are clamped to the maximum Duration rather than
// overflowing into a negative or tiny delay (go-retryablehttp #247): callers
// must compare the result against their own cap.
//
// The HTTP-date form accepts every layout [http.ParseTime] does
// (IMF-fixdate and the obsolete RFC 850 and asctime forms, which RFC 9110
// requires recipients to accept). A date at or before now yields (0, true):
// the server's wait is over. The result is never negative.
//
// ParseRetryAfter is pure: time enters only through now.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0, false
	}
	if d, ok := parseSeconds(v); ok {
		return d, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	// Sub saturates instead of overflowing, so far-future dates clamp too.
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// parseSeconds parses 1*DIGIT as seconds, clamping at maxDuration.
func parseSeconds(v string) (time.Duration, bool) {
	const maxSeconds = int64(maxDuration / time.Second)
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		// Past maxSeconds stop accumulating (n cannot overflow) but keep
		// scanning, so "99999999999x" is still rejected.
		if n <= maxSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	if n > maxSeconds {
		return maxDuration, true
	}
	return time.Duration(n) * time.Second, true
}
