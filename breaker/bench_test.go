package breaker

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// staticTransport answers every request with the same response and
// allocates nothing, so the benchmarks measure only the breaker.
type staticTransport struct {
	resp *http.Response
	err  error
}

func (s staticTransport) RoundTrip(*http.Request) (*http.Response, error) { return s.resp, s.err }

func benchRequest(b *testing.B) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "http://upstream.test/path", nil)
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// BenchmarkBare is the baseline: the stub transport alone.
func BenchmarkBare(b *testing.B) {
	var rt http.RoundTripper = staticTransport{resp: &http.Response{StatusCode: 200}}
	req := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClosed is the cost of a request through a closed breaker: 0
// allocs, since the attempt runs in a closure gobreaker's Execute only
// calls.
func BenchmarkClosed(b *testing.B) {
	rt := New(Config{}).Wrap(staticTransport{resp: &http.Response{StatusCode: 200}})
	req := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClosedParallel shows contention on one key's breaker.
func BenchmarkClosedParallel(b *testing.B) {
	rt := New(Config{}).Wrap(staticTransport{resp: &http.Response{StatusCode: 200}})
	req := benchRequest(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rt.RoundTrip(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOpen is the cost of refusing a request: no I/O, 0 allocs.
func BenchmarkOpen(b *testing.B) {
	rt := New(Config{ConsecutiveFailures: 1}).Wrap(staticTransport{err: errors.New("down")})
	req := benchRequest(b)
	if _, err := rt.RoundTrip(req); err == nil || errors.Is(err, ErrOpen) {
		b.Fatalf("first call: %v, want the transport's error", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); !errors.Is(err, ErrOpen) {
			b.Fatalf("got %v, want ErrOpen", err)
		}
	}
}

// BenchmarkClock is a reference for reading the breaker numbers: a request
// through a closed breaker reads the clock three times (once here, twice in
// gobreaker), a refusal twice, and on VMs without a fast clock source those
// reads dominate.
func BenchmarkClock(b *testing.B) {
	b.ReportAllocs()
	var t time.Time
	for b.Loop() {
		t = time.Now()
	}
	_ = t
}
