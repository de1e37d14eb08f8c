package quota

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Dialect is how a [Server] tells a client about its quota.
type Dialect int

const (
	// IETF sends the httpapi working group's structured fields (draft
	// -10) on every answer — RateLimit-Policy: "default";q=100;w=1 and
	// RateLimit: "default";r=<remaining>;t=<seconds until the full burst
	// is back> — and Retry-After on a 429.
	IETF Dialect = iota
	// GitHub sends X-RateLimit-Limit (the quota per period),
	// -Remaining, -Reset (Unix epoch seconds at which the full burst is
	// back, rounded up) and -Resource on every answer, as GitHub's REST
	// API does, and Retry-After on a 429.
	GitHub
	// RetryAfterOnly sends nothing but Retry-After, on a 429.
	RetryAfterOnly
	// Bare answers 429 with no header at all, as nginx's limit_req does.
	Bare
)

// Dialects lists every dialect, in order.
var Dialects = []Dialect{IETF, GitHub, RetryAfterOnly, Bare}

var dialectNames = [...]string{IETF: "ietf", GitHub: "github", RetryAfterOnly: "retry-after", Bare: "bare"}

// String returns the dialect's short name, as ParseDialect accepts it.
func (d Dialect) String() string {
	if d < 0 || int(d) >= len(dialectNames) {
		return fmt.Sprintf("Dialect(%d)", int(d))
	}
	return dialectNames[d]
}

// About says in a few words what the dialect sends.
func (d Dialect) About() string {
	switch d {
	case IETF:
		return "IETF RateLimit and RateLimit-Policy fields, Retry-After on 429"
	case GitHub:
		return "X-RateLimit-* with an epoch reset, Retry-After on 429"
	case RetryAfterOnly:
		return "Retry-After on 429, nothing else"
	case Bare:
		return "a bare 429 with no header, as nginx limit_req sends"
	}
	return d.String()
}

// ParseDialect returns the dialect named s (see [Dialect.String]).
func ParseDialect(s string) (Dialect, error) {
	for _, d := range Dialects {
		if d.String() == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("quota: unknown dialect %q (want one of %s)", s, strings.Join(dialectNames[:], ", "))
}

// Announces reports whether the dialect tells a throttled client how long
// to pause (Retry-After).
func (d Dialect) Announces() bool { return d != Bare }

// pause is the Retry-After a denied request is sent: the wait rounded up
// to whole seconds, the header's resolution, so a client that obeys is
// never early. A 100/s quota's 10 ms wait becomes "1".
func pause(dec Decision) time.Duration { return ceilSeconds(dec.RetryAfter) }

func ceilSeconds(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// write sets the dialect's headers for dec, decided at now.
func (d Dialect) write(h http.Header, l Limit, dec Decision, now time.Time) {
	if !dec.Allowed && d.Announces() {
		h.Set("Retry-After", strconv.Itoa(int(pause(dec)/time.Second)))
	}
	switch d {
	case IETF:
		h.Set("RateLimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, l.Rate, int(l.Period/time.Second)))
		h.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, dec.Remaining, int(ceilSeconds(dec.ResetAfter)/time.Second)))
	case GitHub:
		reset := now.Add(dec.ResetAfter)
		epoch := reset.Unix()
		if reset.After(time.Unix(epoch, 0)) {
			epoch++ // round up: never announce a reset before it happens
		}
		h.Set("X-RateLimit-Limit", strconv.Itoa(l.Rate))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(dec.Remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(epoch, 10))
		h.Set("X-RateLimit-Resource", "core")
	}
}
