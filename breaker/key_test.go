package breaker

import (
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
)

func TestRequestKey(t *testing.T) {
	b := New(Config{})
	cases := []struct {
		url  string
		want key
		str  string
	}{
		{"http://example.com/x", key{Scheme: "http", Host: "example.com", Port: 80}, "http://example.com:80"},
		{"https://example.com/x", key{Scheme: "https", Host: "example.com", Port: 443}, "https://example.com:443"},
		{"https://example.com:443/x", key{Scheme: "https", Host: "example.com", Port: 443}, "https://example.com:443"},
		{"http://example.com:8080", key{Scheme: "http", Host: "example.com", Port: 8080}, "http://example.com:8080"},
		{"https://[::1]:8443/", key{Scheme: "https", Host: "::1", Port: 8443}, "https://[::1]:8443"},
		{"http://[::1]/", key{Scheme: "http", Host: "::1", Port: 80}, "http://[::1]:80"},
		{"ftp://files.example.com/", key{Scheme: "ftp", Host: "files.example.com", Port: 0}, "ftp://files.example.com"},
		{"ftp://[::1]/", key{Scheme: "ftp", Host: "::1", Port: 0}, "ftp://[::1]"},
		{"HTTP://API.Example.COM/x", key{Scheme: "http", Host: "api.example.com", Port: 80}, "http://api.example.com:80"},
	}
	for _, tc := range cases {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		k := b.requestKey(req)
		if k != tc.want {
			t.Errorf("%s: key %+v, want %+v", tc.url, k, tc.want)
		}
		if got := k.String(); got != tc.str {
			t.Errorf("%s: String %q, want %q", tc.url, got, tc.str)
		}
		if back, ok := b.parseKey(tc.str); !ok || back != k {
			t.Errorf("parseKey(%q) = %+v, %v; want %+v", tc.str, back, ok, k)
		}
	}
}

// Host names are case-insensitive: StateOf finds a breaker whatever the case
// of the name it is given.
func TestKeyCaseInsensitive(t *testing.T) {
	b := New(Config{})
	upper, _ := http.NewRequest(http.MethodGet, "http://API.Example.com/", nil)
	lower, _ := http.NewRequest(http.MethodGet, "http://api.example.com/", nil)
	if b.requestKey(upper) != b.requestKey(lower) {
		t.Errorf("keys differ: %+v, %+v", b.requestKey(upper), b.requestKey(lower))
	}
	if k, ok := b.parseKey("HTTP://Api.Example.Com:80"); !ok || k != b.requestKey(lower) {
		t.Errorf("parseKey = %+v, %v; want %+v", k, ok, b.requestKey(lower))
	}
}

func TestParseKeyInvalid(t *testing.T) {
	b := New(Config{})
	for _, s := range []string{"", "example.com:80", "://example.com:80", "http://example.com:http", "http://example.com:0", "http://example.com:70000"} {
		if k, ok := b.parseKey(s); ok {
			t.Errorf("parseKey(%q) = %+v, true; want false", s, k)
		}
	}
}

func TestCustomKey(t *testing.T) {
	b := New(Config{Key: func(r *http.Request) string { return r.Header.Get("Tenant") }})
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Set("Tenant", "acme")
	k := b.requestKey(req)
	if k != (key{Host: "acme"}) || k.String() != "acme" {
		t.Errorf("key = %+v (%q)", k, k.String())
	}
	if back, ok := b.parseKey("acme"); !ok || back != k {
		t.Errorf("parseKey = %+v, %v", back, ok)
	}
}

// The default key must not cost an allocation per request.
func TestRequestKeyAllocs(t *testing.T) {
	b := New(Config{})
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/x", nil)
	if n := testing.AllocsPerRun(100, func() { _ = b.requestKey(req) }); n != 0 {
		t.Errorf("requestKey allocates %v times, want 0", n)
	}
}

func TestStateUnknownKey(t *testing.T) {
	b := New(Config{})
	for _, k := range []string{"", "nonsense", "http://never.test:80"} {
		if got := b.StateOf(k); got != Closed {
			t.Errorf("State(%q) = %v, want closed", k, got)
		}
	}
}

func TestCustomKeyRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{ConsecutiveFailures: 1, Key: func(r *http.Request) string { return r.Header.Get("Tenant") }})
		rt := b.Wrap(newStatusStub(500))
		for _, tenant := range []string{"acme", "acme", "globex"} {
			req, _ := http.NewRequest(http.MethodGet, "http://shared.test/", nil)
			req.Header.Set("Tenant", tenant)
			_, err := rt.RoundTrip(req)
			var oe *OpenError
			if errors.As(err, &oe) && oe.Key != "acme" {
				t.Errorf("OpenError key %q", oe.Key)
			}
		}
		if b.StateOf("acme") != Open || b.StateOf("globex") != Open || b.StateOf("other") != Closed {
			t.Errorf("snapshot %+v", b.Snapshot())
		}
	})
}
