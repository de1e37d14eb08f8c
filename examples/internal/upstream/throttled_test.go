package upstream

import (
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

func TestThrottled(t *testing.T) {
	s := NewThrottled()
	defer s.Close()
	c := client(t)
	for _, path := range []string{"/a/seconds", "/b"} {
		r1 := get(t, c, s.URL()+path)
		if r1.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s first status %d", path, r1.StatusCode)
		}
		d, ok := idempotency.RetryAfter(r1)
		if !ok || d < 0 || d > 2*time.Second {
			t.Errorf("%s Retry-After %q → %v, %v", path, r1.Header.Get("Retry-After"), d, ok)
		}
		if r2 := get(t, c, s.URL()+path); r2.StatusCode != http.StatusOK {
			t.Errorf("%s second status %d", path, r2.StatusCode)
		}
		a := s.Arrivals(path)
		if len(a) != 2 || a[0].RetryAfter == "" || a[1].RetryAfter != "" {
			t.Errorf("%s arrivals %+v", path, a)
		}
	}
	if r := get(t, c, s.URL()+"/browse/1"); r.StatusCode != http.StatusOK {
		t.Errorf("/browse/1 first status %d, want 200: browsing is never throttled", r.StatusCode)
	}
	if r := get(t, c, s.URL()+"/c/hour"); r.Header.Get("Retry-After") != "3600" {
		t.Errorf("hour form = %q", r.Header.Get("Retry-After"))
	}
	if got := s.Arrivals("/a/seconds")[0].RetryAfter; got != "1" {
		t.Errorf("seconds form = %q", got)
	}
	if _, err := http.ParseTime(s.Arrivals("/b")[0].RetryAfter); err != nil {
		t.Errorf("date form: %v", err)
	}
}
