package upstream

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func client(t *testing.T) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestFlaky(t *testing.T) {
	f := NewFlaky(FlakyConfig{FailRate: 0.3, SlowRate: 0.2, Fast: time.Millisecond, Slow: 5 * time.Millisecond, Seed: 1})
	defer f.Close()
	c := client(t)
	codes := map[int]int{}
	var seq []int
	for range 100 {
		r := get(t, c, f.URL())
		codes[r.StatusCode]++
		seq = append(seq, r.StatusCode)
	}
	total, failed, slow := f.Attempts()
	if total != 100 || failed != codes[503] || codes[200]+codes[503] != 100 {
		t.Errorf("attempts %d, failed %d, codes %v", total, failed, codes)
	}
	if failed < 15 || failed > 45 || slow < 5 || slow > 30 {
		t.Errorf("failed %d, slow %d of 100: far from 30%% and 14%%", failed, slow)
	}
	f.Reset()
	for i := range 100 {
		if r := get(t, c, f.URL()); r.StatusCode != seq[i] {
			t.Fatalf("after Reset attempt %d = %d, want %d (same seed)", i, r.StatusCode, seq[i])
		}
	}
}

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

func TestSwitch(t *testing.T) {
	s := NewSwitch()
	defer s.Close()
	c := client(t)
	if r := get(t, c, s.URL()); r.StatusCode != 200 {
		t.Fatalf("up: %d", r.StatusCode)
	}
	s.SetDown(true)
	if r := get(t, c, s.URL()); r.StatusCode != 503 {
		t.Fatalf("down: %d", r.StatusCode)
	}
	s.SetDown(false)
	if r := get(t, c, s.URL()); r.StatusCode != 200 {
		t.Fatalf("back up: %d", r.StatusCode)
	}
	if s.Attempts() != 3 {
		t.Errorf("attempts %d", s.Attempts())
	}
}
