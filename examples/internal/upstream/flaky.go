package upstream

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// FlakyConfig says how badly a [Flaky] server behaves. Each attempt draws
// its fate independently from a seeded source.
type FlakyConfig struct {
	FailRate float64       // fraction of attempts answered 503
	SlowRate float64       // fraction of (non-failing) attempts that stall
	Fast     time.Duration // latency of a normal attempt
	Slow     time.Duration // latency of a stalled attempt
	Seed     uint64
}

// Flaky is a server that sometimes fails with 503 and sometimes stalls.
type Flaky struct {
	srv *httptest.Server
	cfg FlakyConfig

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand

	attempts, failed, slow atomic.Int64
}

// NewFlaky starts a flaky server.
func NewFlaky(cfg FlakyConfig) *Flaky {
	f := &Flaky{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 1))}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the server's base URL.
func (f *Flaky) URL() string { return f.srv.URL }

// Close shuts the server down.
func (f *Flaky) Close() { f.srv.Close() }

// Attempts returns how many attempts the server received, how many it
// failed with 503 and how many it stalled.
func (f *Flaky) Attempts() (total, failed, slow int) {
	return int(f.attempts.Load()), int(f.failed.Load()), int(f.slow.Load())
}

// Reset zeroes the counters and rewinds the random source, so a second
// client faces the same sequence of fates.
func (f *Flaky) Reset() {
	f.mu.Lock()
	f.rnd = rand.New(rand.NewPCG(f.cfg.Seed, 1))
	f.mu.Unlock()
	f.attempts.Store(0)
	f.failed.Store(0)
	f.slow.Store(0)
}

func (f *Flaky) fate() (fail, slow bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fail = f.rnd.Float64() < f.cfg.FailRate
	slow = f.rnd.Float64() < f.cfg.SlowRate
	return fail, slow && !fail
}

func (f *Flaky) serve(w http.ResponseWriter, r *http.Request) {
	f.attempts.Add(1)
	fail, slow := f.fate()
	switch {
	case fail:
		f.failed.Add(1)
		http.Error(w, "flaky: try again", http.StatusServiceUnavailable)
		return
	case slow:
		f.slow.Add(1)
		Sleep(r.Context(), f.cfg.Slow)
	default:
		Sleep(r.Context(), f.cfg.Fast)
	}
	w.Write([]byte("ok\n"))
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
