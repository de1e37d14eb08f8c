package hedge

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
)

// discardWriter is a reusable ResponseWriter, so the benchmarks measure the
// middleware rather than a recorder's allocations.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok")
})

func benchServe(b *testing.B, h http.Handler, method string) {
	req, err := http.NewRequest(method, "http://server.test/x", nil)
	if err != nil {
		b.Fatal(err)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkMiddleware is the overhead of the middleware on a fast handler
// whose hedge never fires, against the bare handler, called in memory.
// "post" is a request the middleware passes through.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchServe(b, okHandler, http.MethodGet) })
	b.Run("fixed", func(b *testing.B) {
		benchServe(b, NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Hour}}).Handler(okHandler), http.MethodGet)
	})
	b.Run("adaptive", func(b *testing.B) {
		cfg := Config{Quantile: 0.95, WarmupDelay: time.Hour, MinDelay: time.Hour, MaxDelay: time.Hour}
		benchServe(b, NewMiddleware(MiddlewareConfig{Config: cfg}).Handler(okHandler), http.MethodGet)
	})
	b.Run("post", func(b *testing.B) {
		benchServe(b, NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Hour}}).Handler(okHandler), http.MethodPost)
	})
}

// BenchmarkMiddlewareLoopback is the same comparison through a real
// keep-alive connection to an httptest server.
func BenchmarkMiddlewareLoopback(b *testing.B) {
	run := func(b *testing.B, h http.Handler) {
		srv, _ := testkit.NewServer(b, h)
		client := &http.Client{Transport: testkit.Transport(b)}
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, okHandler) })
	b.Run("fixed", func(b *testing.B) {
		run(b, NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Hour}}).Handler(okHandler))
	})
}

// BenchmarkMiddlewareHedgeFires is the cost of a request whose first run
// is stuck and whose hedge wins.
func BenchmarkMiddlewareHedgeFires(b *testing.B) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsHedge(r.Context()) {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "ok")
	})
	unlimited := budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e12})
	benchServe(b, NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Microsecond, Budget: unlimited}}).Handler(slow), http.MethodGet)
}

// BenchmarkMiddlewareLargeResponse is the cost of a 4 MiB answer written
// in 32 KiB chunks by a handler whose body outgrows a 64 KiB MaxResponse,
// so that all but the first 64 KiB are copied to the client as written:
// in memory, and through a real keep-alive connection.
func BenchmarkMiddlewareLargeResponse(b *testing.B) {
	chunk := make([]byte, 32<<10)
	large := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 128 {
			w.Write(chunk)
		}
	})
	m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Hour}, MaxResponse: 64 << 10})
	b.Run("memory", func(b *testing.B) {
		b.SetBytes(128 << 15)
		benchServe(b, m.Handler(large), http.MethodGet)
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"loopback/bare", large}, {"loopback/middleware", m.Handler(large)}} {
		b.Run(tc.name, func(b *testing.B) {
			srv, _ := testkit.NewServer(b, tc.h)
			client := &http.Client{Transport: testkit.Transport(b)}
			b.SetBytes(128 << 15)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
