package throttle

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// FuzzSignal drives every header dialect's parser with arbitrary values,
// checking what must hold whatever a server sends: no panic, no negative
// pause or reset, a pause only from a Retry-After on a retryable response
// or from a remaining count of zero, Retry-After winning over the reset
// fields, a malformed structured field ignored whole, quota fields ignored
// on a cached response, and a learned rate that is finite and positive.
func FuzzSignal(f *testing.F) {
	for _, s := range [][8]string{
		{"5", "", `"default";r=0;t=30`, `"default";q=100;w=60`, "", "", "", ""},
		{"", "1500", "", "", "100", "0", "1767366300", ""},
		{"Fri, 02 Jan 2026 15:04:35 GMT", "", `"a";r=5;t=1, "b";r=0;t=40`, "", "", "", "", ""},
		{"", "", `"d";r=0;t=30,`, `"burst";q=100;w=60,"daily";q=1000;w=86400`, "", "", "", ""},
		{"", "", "", "", "5000", "4999", "3600", "6m0s"},
		{"-1", "1e3", `"x";r=-1`, `"p";q=1;qu="content-bytes";w=10`, "x", "-0", "1.5", "1m30.5s"},
		{"", "", `(1 2);r=1`, `"p";pk=:cHsdsRa894==:;q=1;w=1`, "", "0", "99999999999999999999", "-1s"},
		{"", "", `"d";r=0;t=1`, `"d";q=0;w=1`, "", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], true, false, int64(1767366245))
	}
	f.Fuzz(func(t *testing.T, retryAfter, retryAfterMs, rateLimit, policy, xLimit, xRemaining, xReset, oaiReset string,
		retryable, cached bool, unix int64) {
		now := time.Unix(unix%(1<<40), 0)
		h := http.Header{}
		set := func(k, v string) {
			if v != "" {
				h.Set(k, v)
			}
		}
		set("Retry-After", retryAfter)
		set("Retry-After-Ms", retryAfterMs)
		set("RateLimit", rateLimit)
		set("RateLimit-Policy", policy)
		set("X-RateLimit-Limit", xLimit)
		set("X-RateLimit-Remaining", xRemaining)
		set("X-RateLimit-Reset", xReset)
		set("X-Ratelimit-Reset-Requests", oaiReset)
		set("X-Ratelimit-Remaining-Requests", xRemaining)
		if cached {
			h.Set("Age", "5")
		}
		s := readSignal(h, retryable, now)

		if s.pause < 0 || s.reset < 0 || s.remaining < 0 || s.quota < 0 || s.window < 0 {
			t.Fatalf("negative field: %+v", s)
		}
		if math.IsNaN(s.quota) || math.IsInf(s.quota, 0) {
			t.Fatalf("quota %v", s.quota)
		}
		_, raValid := idempotency.ParseRetryAfter(retryAfter, now)
		_, msValid := parseRetryAfterMs(retryAfterMs)
		explicit := retryable && (raValid || msValid)
		if s.pause > 0 && !explicit && !(s.hasRemaining && s.remaining == 0 && s.hasReset) {
			t.Fatalf("a pause from nowhere: %+v", s)
		}
		if explicit {
			// Retry-After decides, as the draft asks: the reset fields
			// never lengthen or shorten it.
			want := readSignal(http.Header{"Retry-After": {retryAfter}, "Retry-After-Ms": {retryAfterMs}}, true, now).pause
			if s.pause != want {
				t.Fatalf("pause %v, want Retry-After's %v", s.pause, want)
			}
		}
		if cached && s.informed() {
			t.Fatalf("quota fields read from a cached response: %+v", s)
		}
		if rateLimit != "" || policy != "" {
			if _, ok := parseSFList([]string{rateLimit}); rateLimit != "" && !ok && s.hasRemaining {
				t.Fatalf("malformed RateLimit %q was read: %+v", rateLimit, s)
			}
		}
		if s.quota > 0 {
			p := newPacer(now, 0, 0)
			p.learn(now, s, false, true, now, false, false)
			if r, b := p.limits(); !(r > 0) || math.IsInf(float64(r), 0) || b < 1 {
				t.Fatalf("learned rate %v burst %d from %+v", r, b, s)
			}
		}
	})
}
