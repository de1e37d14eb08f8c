package quota

import (
	"net/http"
	"testing"
	"time"
)

func TestDialectHeaders(t *testing.T) {
	l := Limit{}.normalize()
	now := time.Date(2026, 1, 1, 0, 0, 0, 400_000_000, time.UTC) // .4 s past a second
	ok := Decision{Allowed: true, Remaining: 7, ResetAfter: 30 * time.Millisecond}
	denied := Decision{RetryAfter: 4 * time.Millisecond, ResetAfter: 94 * time.Millisecond}
	epoch := "1767225601" // the next whole second after now
	cases := []struct {
		d    Dialect
		dec  Decision
		want map[string]string
	}{
		{IETF, ok, map[string]string{"RateLimit-Policy": `"default";q=100;w=1`, "RateLimit": `"default";r=7;t=1`}},
		{IETF, denied, map[string]string{"RateLimit-Policy": `"default";q=100;w=1`, "RateLimit": `"default";r=0;t=1`, "Retry-After": "1"}},
		{IETF, Decision{Allowed: true, Remaining: 9}, map[string]string{"RateLimit-Policy": `"default";q=100;w=1`, "RateLimit": `"default";r=9;t=0`}},
		{GitHub, ok, map[string]string{"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": epoch, "X-RateLimit-Resource": "core"}},
		{GitHub, denied, map[string]string{"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch, "X-RateLimit-Resource": "core", "Retry-After": "1"}},
		{RetryAfterOnly, ok, map[string]string{}},
		{RetryAfterOnly, Decision{RetryAfter: 2500 * time.Millisecond}, map[string]string{"Retry-After": "3"}},
		{Bare, ok, map[string]string{}},
		{Bare, denied, map[string]string{}},
	}
	for _, c := range cases {
		h := http.Header{}
		c.d.write(h, l, c.dec, now)
		if len(h) != len(c.want) {
			t.Errorf("%v %+v: headers %v, want %v", c.d, c.dec, h, c.want)
			continue
		}
		for k, v := range c.want {
			if got := h.Get(k); got != v {
				t.Errorf("%v %+v: %s = %q, want %q", c.d, c.dec, k, got, v)
			}
		}
	}
}

func TestGitHubResetOnAWholeSecond(t *testing.T) {
	h := http.Header{}
	GitHub.write(h, Limit{}.normalize(), Decision{Allowed: true, ResetAfter: 600 * time.Millisecond},
		time.Unix(100, 400_000_000))
	if got := h.Get("X-RateLimit-Reset"); got != "101" {
		t.Errorf("reset exactly at 101 s announced as %s", got)
	}
}

func TestParseDialect(t *testing.T) {
	for _, d := range Dialects {
		got, err := ParseDialect(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDialect(%q) = %v, %v", d, got, err)
		}
		if d.About() == d.String() {
			t.Errorf("%v has no description", d)
		}
	}
	if _, err := ParseDialect("nginx"); err == nil {
		t.Error("unknown dialect accepted")
	}
	if s := Dialect(9).String(); s != "Dialect(9)" {
		t.Errorf("out of range: %q", s)
	}
}
