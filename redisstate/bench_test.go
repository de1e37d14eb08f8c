package redisstate

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/throttle"
)

// okTransport answers every request 200 at once, in memory, so that the
// benchmarks measure the throttle and the store alone.
type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// BenchmarkThrottle measures what sharing adds to a request: the throttle
// stage over an in-memory upstream, local-only and shared through a
// loopback redis-server (one round trip per request, or one per 8 with a
// lease of 8). The quota, 1000/s in bursts of a million, never delays a
// request, and a leased token lives long enough (1 ms a token) to be used.
func BenchmarkThrottle(b *testing.B) {
	_, rdb := testRedis(b)
	q := rate.Limit(1000)
	for _, bc := range []struct {
		name   string
		shared throttle.Shared
	}{
		{"local", nil},
		{"redis", newStore(b, rdb, Config{Prefix: "bench1:"})},
		{"redis-lease8", newStore(b, rdb, Config{Prefix: "bench8:", Lease: 8})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rt := throttle.New(throttle.Config{Rate: q, Burst: 1_000_000, Shared: bc.shared}).Wrap(okTransport{})
			req, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkReserve measures one Reserve against loopback Redis: the round
// trip a shared request pays.
func BenchmarkReserve(b *testing.B) {
	_, rdb := testRedis(b)
	s := newStore(b, rdb, Config{Timeout: time.Second})
	ctx := context.Background()
	quota := throttle.Quota{Rate: 1000, Burst: 1_000_000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Reserve(ctx, "k", quota, 0); err != nil {
			b.Fatal(err)
		}
	}
}
