package throttle

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/saturate"
)

// signal is what one response says about its host's limits. Each dialect
// has its own parser below; [readSignal] combines them. The zero signal says
// nothing.
type signal struct {
	// pause is how long the host asked every client request to wait; set
	// only when positive (a pause in the past or of zero is none).
	pause time.Duration

	// quota units per window, from RateLimit-Policy (window known) or a
	// limit header (window zero: to be inferred from resets).
	quota  float64
	window time.Duration

	// remaining quota units, and how long until more are made available.
	remaining    int64
	hasRemaining bool
	reset        time.Duration
	hasReset     bool
	// resetSlack is the reset's resolution: a server that counts in whole
	// seconds rounds up, so the true reset may be up to this much sooner.
	resetSlack time.Duration
}

// informed reports whether the response carried quota fields (a policy, a
// limit or a remaining count), as opposed to none at all or only a pause.
// Pacing learns from informed responses and falls back to AIMD on the
// others.
func (s signal) informed() bool { return s.quota > 0 || s.hasRemaining }

// quotaBackBy reports whether the signal says that the host's whole
// quota is back within d: nothing remained, and the reset comes no later.
func (s signal) quotaBackBy(d time.Duration) bool {
	return s.hasRemaining && s.remaining == 0 && s.hasReset && s.reset <= d
}

// Header names of the dialects, canonicalized as [http.Header] stores them.
const (
	hdrRetryAfter      = "Retry-After"
	hdrRetryAfterMs    = "Retry-After-Ms" // Anthropic, Azure, OpenAI
	hdrRateLimit       = "Ratelimit"      // IETF httpapi draft
	hdrRateLimitPolicy = "Ratelimit-Policy"
	hdrXLimit          = "X-Ratelimit-Limit" // GitHub and many others
	hdrXRemaining      = "X-Ratelimit-Remaining"
	hdrXReset          = "X-Ratelimit-Reset"
	hdrOAILimit        = "X-Ratelimit-Limit-Requests" // OpenAI
	hdrOAIRemaining    = "X-Ratelimit-Remaining-Requests"
	hdrOAIReset        = "X-Ratelimit-Reset-Requests"
	hdrOAIRemainingTok = "X-Ratelimit-Remaining-Tokens"
	hdrOAIResetTok     = "X-Ratelimit-Reset-Tokens"
	hdrAge             = "Age"
)

// readSignal reads every dialect from h. retryable says whether the
// response's status is one the classifier calls Transient or Throttled:
// Retry-After is honoured only there (on a 3xx it means something else, and
// on a 2xx the request succeeded). Quota fields count on any status, since a
// 200 with nothing remaining announces the next request's 429.
//
// Precedence, as the IETF draft asks: a valid Retry-After (retry-after-ms
// first, being finer) decides the pause, even a pause of zero, and the
// reset fields decide it only when there is none. A response served from a cache (Age above 0) has stale
// counters, so its quota fields are ignored (draft §"Caching"). Pauses are
// not capped here; the caller caps them with MaxPause.
func readSignal(h http.Header, retryable bool, now time.Time) signal {
	var (
		s        signal
		explicit bool // a valid Retry-After decides the pause, even one of 0
	)
	if retryable {
		// The pause taken from Retry-After is idempotency.PauseAsked's:
		// positive, or none. A valid one of 0 still decides, as no pause.
		if d, ok := parseRetryAfterMs(h.Get(hdrRetryAfterMs)); ok {
			s.pause, explicit = d, true
		} else if d, ok := idempotency.ParseRetryAfter(h.Get(hdrRetryAfter), now); ok {
			s.pause, explicit = d, true
		}
	}
	if age := h.Get(hdrAge); age != "" && age != "0" {
		return s
	}
	switch {
	case len(h[hdrRateLimit]) > 0 || len(h[hdrRateLimitPolicy]) > 0:
		s.readIETF(h)
	case h.Get(hdrXRemaining) != "" || h.Get(hdrXLimit) != "":
		s.readX(h, now)
	default:
		s.readOpenAI(h)
	}
	if !explicit && s.hasRemaining && s.remaining == 0 && s.hasReset {
		s.pause = s.reset
	}
	if s.pause < 0 {
		s.pause = 0
	}
	return s
}

// parseRetryAfterMs parses retry-after-ms: a non-negative number of
// milliseconds, digits with an optional fraction. Anything else is invalid.
func parseRetryAfterMs(v string) (time.Duration, bool) {
	ms, ok := parseDecimal(strings.TrimSpace(v))
	if !ok {
		return 0, false
	}
	return saturate.Seconds(ms / 1000), true
}

// readIETF reads RateLimit and RateLimit-Policy (draft-ietf-httpapi-
// ratelimit-headers). Each is ignored whole when malformed.
func (s *signal) readIETF(h http.Header) {
	if q, w, ok := parsePolicy(h[hdrRateLimitPolicy]); ok {
		s.quota, s.window = q, w
	}
	if r, t, hasT, ok := parseRateLimit(h[hdrRateLimit]); ok {
		s.remaining, s.hasRemaining = r, true
		s.reset, s.hasReset, s.resetSlack = t, hasT, time.Second
	}
}

// parsePolicy returns the most restrictive request-counting policy of a
// RateLimit-Policy field: the smallest q/w. Policies in other units
// (content-bytes, concurrent-requests) and policies without a window say
// nothing about a request rate and are skipped. ok is false when the field
// is absent, malformed (any item lacks a non-negative integer q, or has a
// window that is not a positive integer), or has no usable policy.
func parsePolicy(values []string) (quota float64, window time.Duration, ok bool) {
	if len(values) == 0 {
		return 0, 0, false
	}
	items, ok := parseSFList(values)
	if !ok {
		return 0, 0, false
	}
	best := math.Inf(1)
	for _, it := range items {
		q, okQ := it.param("q")
		if !it.isStr || !okQ || !q.isInt || q.num < 0 {
			return 0, 0, false
		}
		w, hasW := it.param("w")
		if hasW && (!w.isInt || w.num <= 0) {
			return 0, 0, false
		}
		if qu, has := it.param("qu"); has && (!qu.isStr || qu.str != "requests") {
			continue
		}
		if !hasW {
			continue
		}
		if r := float64(q.num) / float64(w.num); r < best {
			best, quota, window = r, float64(q.num), saturate.Mul(w.num, time.Second)
		}
	}
	return quota, window, quota > 0
}

// parseRateLimit returns the most restrictive service limit of a RateLimit
// field: the smallest remaining count, with its reset if the item has one
// (several items with nothing left: the longest reset). ok is false when
// the field is absent or malformed: an item without a non-negative integer
// r, or with a t that is not a non-negative integer.
func parseRateLimit(values []string) (remaining int64, reset time.Duration, hasReset, ok bool) {
	if len(values) == 0 {
		return 0, 0, false, false
	}
	items, ok := parseSFList(values)
	if !ok {
		return 0, 0, false, false
	}
	remaining = math.MaxInt64
	for _, it := range items {
		r, okR := it.param("r")
		if !it.isStr || !okR || !r.isInt || r.num < 0 {
			return 0, 0, false, false
		}
		t, hasT := it.param("t")
		if hasT && (!t.isInt || t.num < 0) {
			return 0, 0, false, false
		}
		d := saturate.Mul(t.num, time.Second)
		switch {
		case r.num < remaining:
			remaining, reset, hasReset = r.num, d, hasT
		case r.num == remaining && hasT && d > reset:
			reset, hasReset = d, true
		}
	}
	return remaining, reset, hasReset, true
}

// readX reads the X-RateLimit-Limit/-Remaining/-Reset family (GitHub,
// Twitter, many gateways). A header that does not parse is ignored alone.
func (s *signal) readX(h http.Header, now time.Time) {
	if n, ok := parseCount(h.Get(hdrXLimit)); ok && n > 0 {
		s.quota = float64(n)
	}
	if n, ok := parseCount(h.Get(hdrXRemaining)); ok {
		s.remaining, s.hasRemaining = n, true
	}
	if v, ok := parseDecimal(strings.TrimSpace(h.Get(hdrXReset))); ok {
		s.reset, s.hasReset = xReset(v, now), true
		if v == math.Trunc(v) {
			// Whole seconds (or milliseconds, for a Unix time in ms).
			s.resetSlack = time.Second
			if v > float64(now.UnixMilli())/2 {
				s.resetSlack = time.Millisecond
			}
		}
	}
}

// xReset reads an X-RateLimit-Reset value by its magnitude, since servers
// send either a delay in seconds or a Unix time, in seconds or
// milliseconds, and never say which. A value closer to the current Unix
// time in milliseconds than to zero is a Unix time in milliseconds; else
// one closer to the current Unix time in seconds than to zero is a Unix
// time in seconds; anything smaller is a delay in seconds. Today that puts
// the line between a delay and a date at about 28 years, and a delay that
// long or a date that far back is nonsense either way. A Unix time is
// compared with now, the local clock, and one in the past is a reset of
// zero.
func xReset(v float64, now time.Time) time.Duration {
	switch {
	case v > float64(now.UnixMilli())/2:
		return untilUnix(v/1000, now)
	case v > float64(now.Unix())/2:
		return untilUnix(v, now)
	default:
		return saturate.Seconds(v)
	}
}

// readOpenAI reads OpenAI's request and token limits, whose resets are Go
// durations ("1s", "6m0s", "12ms"). Nothing left in either unit pauses the
// host until that unit resets (the longer of the two if both ran out);
// only the request limit sets a rate.
func (s *signal) readOpenAI(h http.Header) {
	if n, ok := parseCount(h.Get(hdrOAILimit)); ok && n > 0 {
		s.quota = float64(n)
	}
	req, okReq := parseCount(h.Get(hdrOAIRemaining))
	reqReset, okReqReset := parseGoDuration(h.Get(hdrOAIReset))
	tok, okTok := parseCount(h.Get(hdrOAIRemainingTok))
	tokReset, okTokReset := parseGoDuration(h.Get(hdrOAIResetTok))
	if okReq {
		s.remaining, s.hasRemaining = req, true
		s.reset, s.hasReset = reqReset, okReqReset
	}
	if okTok && tok == 0 && okTokReset {
		if !s.hasRemaining || s.remaining > 0 || tokReset > s.reset {
			s.remaining, s.hasRemaining = 0, true
			s.reset, s.hasReset = tokReset, true
		}
	}
}

// parseGoDuration parses a non-negative [time.ParseDuration] string.
func parseGoDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// parseCount parses a non-negative decimal integer, clamping at MaxInt64.
func parseCount(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isDigit(c) {
			return 0, false
		}
		if n <= (math.MaxInt64-9)/10 {
			n = n*10 + int64(c-'0')
		} else {
			n = math.MaxInt64
		}
	}
	return n, true
}

// parseDecimal parses 1*DIGIT [ "." 1*DIGIT ] as a float64. Signs,
// exponents, spaces inside, "Inf" and "NaN" are invalid.
func parseDecimal(v string) (float64, bool) {
	if v == "" {
		return 0, false
	}
	var (
		n     float64
		scale = 1.0
		dot   bool
	)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			if dot {
				scale /= 10
				n += float64(c-'0') * scale
			} else {
				n = n*10 + float64(c-'0')
			}
		case c == '.' && !dot && i > 0 && i < len(v)-1:
			dot = true
		default:
			return 0, false
		}
	}
	return n, !math.IsInf(n, 0)
}

// untilUnix returns the time from now until Unix time sec, or 0 if it has
// passed.
func untilUnix(sec float64, now time.Time) time.Duration {
	d := sec - float64(now.UnixNano())/1e9
	if d <= 0 {
		return 0
	}
	return saturate.Seconds(d)
}
