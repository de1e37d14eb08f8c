package throttle

import (
	"net/http"
	"testing"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Run with: go test -run='^$' -bench=. -benchmem ./throttle/
//
// Each measures one GET through the stage on an in-memory upstream that
// answers 200 at once: the overhead every admitted request pays. "idle" is
// the zero Config on a host that never throttled (adaptive throttling
// counts, the gate is open, nothing paces it); "paced" has a token bucket
// with tokens to spare; "capped" adds a concurrency cap.

func BenchmarkStubGet(b *testing.B) {
	b.Run("bare", func(b *testing.B) { testkit.BenchGet(b, testkit.OK, "http://x/") })
	b.Run("idle", func(b *testing.B) { testkit.BenchGet(b, New(Config{}).Wrap(testkit.OK), "http://x/") })
	b.Run("paced", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{Rate: 1e9, Burst: 1 << 20}).Wrap(testkit.OK), "http://x/")
	})
	b.Run("capped", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{MaxConcurrent: 8}).Wrap(testkit.OK), "http://x/")
	})
}

// BenchmarkParallelGet: many goroutines through one host's state, the
// contention a busy client puts on it.
func BenchmarkParallelGet(b *testing.B) {
	rt := New(Config{}).Wrap(testkit.OK)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		for pb.Next() {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}

func BenchmarkReadSignal(b *testing.B) {
	h := http.Header{}
	h.Set("RateLimit-Policy", `"default";q=100;w=1`)
	h.Set("RateLimit", `"default";r=42;t=1`)
	b.ReportAllocs()
	for b.Loop() {
		_ = readSignal(h, false, now)
	}
}
