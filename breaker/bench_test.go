package breaker

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
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

// BenchmarkNewKey is the cost of admitting a key the registry has not seen
// while it already tracks 20,000 (its MaxKeys): every new key evicts one.
// "closed" fills it with healthy hosts; "open" with hosts in their open
// period, the case a fleet of dead pod IPs creates and the one that used
// to scan the whole map under the write lock on every new key (and never
// evict, so the registry grew with b.N). "keys" reports the registry's
// size at the end.
func BenchmarkNewKey(b *testing.B) {
	const tracked = 20000
	for _, bc := range []struct {
		name   string
		status int
	}{{"closed", http.StatusOK}, {"open", http.StatusBadGateway}} {
		b.Run(fmt.Sprintf("%s/%d", bc.name, tracked), func(b *testing.B) {
			br := New(Config{ConsecutiveFailures: 1, MaxKeys: tracked, IdleTTL: time.Hour, OpenTimeout: time.Hour})
			rt := br.Wrap(staticTransport{resp: &http.Response{StatusCode: bc.status, Body: http.NoBody}})
			req := benchRequest(b)
			u := *req.URL
			req.URL = &u
			host := func(i int) string { return "h" + strconv.Itoa(i) + ".test" }
			for i := range tracked {
				u.Host = host(i)
				rt.RoundTrip(req)
			}
			n := tracked
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				u.Host = host(n)
				n++
				rt.RoundTrip(req)
			}
			b.StopTimer()
			br.mu.RLock()
			b.ReportMetric(float64(len(br.entries)), "keys")
			br.mu.RUnlock()
		})
	}
}
