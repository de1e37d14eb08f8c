package throttle

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestDecisionLog: the same story as TestOnThrottle, as the decision log
// tells it, exactly: the pauses at Info, the waits and the refusal at
// Debug.
func TestDecisionLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "2", "RateLimit-Policy", `"p";q=1;w=1`)
			}
			return reply(req, &u.tr, 200)
		}
		rt := New(Config{MaxWait: 5 * time.Second, Logger: logger}).Wrap(u)
		send(context.Background(), rt, "http://a.test/") // closes the gate for 2 s
		_, err := send(context.Background(), rt, "http://a.test/")
		require.NoError(t, err)
		u.answer = always(u, 429, "Retry-After", "10")
		send(context.Background(), rt, "http://a.test/") // 1 s of pace; closes the gate for 10 s
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = send(ctx, rt, "http://a.test/")
		require.Error(t, err)
		assert.Equal(t, []string{
			"paused reason=pushback wait=2s status=429",
			"throttled reason=gate wait=2s",
			"throttled reason=pace wait=1s",
			"paused reason=pushback wait=10s status=429",
			"rejected reason=gate wait=10s error=throttle: gate closed for http://a.test:80, could go in 10s",
		}, logs.Lines())
		levels := map[string]slog.Level{"paused": slog.LevelInfo, "throttled": slog.LevelDebug, "rejected": slog.LevelDebug}
		for _, r := range logs.Records() {
			assert.Equal(t, "throttle", r.Attrs["stage"])
			assert.Equal(t, "http://a.test:80", r.Attrs["host"])
			assert.Equal(t, levels[r.Attrs["event"]], r.Level)
		}
	})
}

// TestDecisionLogSlotsAndAdaptive: the concurrency and adaptive reasons,
// as the decision log tells them: a wait for a slot, a hedge refused one
// (hedges never wait), and requests shed locally by adaptive throttling,
// each record agreeing with the Stats.
func TestDecisionLogSlotsAndAdaptive(t *testing.T) {
	t.Run("concurrency", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			logger, logs := testkit.NewLogs(slog.LevelDebug)
			u := &upstream{latency: time.Second}
			u.answer = always(u, 200)
			th := New(Config{MaxConcurrent: 1, Logger: logger})
			rt := th.Wrap(u)
			var wg sync.WaitGroup
			wg.Go(func() { send(context.Background(), rt, "http://a.test/") }) // holds the slot 1 s
			synctest.Wait()
			wg.Go(func() { send(context.Background(), rt, "http://a.test/") }) // waits 1 s for it
			synctest.Wait()
			_, err := send(hedgeCtx(context.Background(), 2), rt, "http://a.test/")
			require.ErrorIs(t, err, ErrThrottled)
			wg.Wait()
			assert.Equal(t, []string{
				"rejected reason=concurrency error=throttle: too many requests in flight to http://a.test:80",
				"throttled reason=concurrency wait=1s",
			}, logs.Lines())
			st := th.Stats()
			assert.Equal(t, uint64(1), st.RejectedConcurrency)
			assert.Equal(t, uint64(1), st.Waited)
		})
	})
	t.Run("adaptive", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			logger, logs := testkit.NewLogs(slog.LevelDebug)
			u := &upstream{}
			u.answer = always(u, 503) // refuses everything, asking for no pause
			th := New(Config{Logger: logger})
			rt := th.Wrap(u)
			for th.Stats().RejectedAdaptive < 3 {
				send(context.Background(), rt, "http://a.test/")
				time.Sleep(10 * time.Millisecond)
			}
			var want []string
			for range 3 {
				want = append(want, "rejected reason=adaptive error=throttle: rejected locally (adaptive throttling) for http://a.test:80")
			}
			assert.Equal(t, want, logs.Lines(), "a refusal of unknown length has no wait")
		})
	})
}

// TestSilentLogAllocs: a refused request costs the same allocations with
// a nil logger and with one whose level drops the records.
func TestSilentLogAllocs(t *testing.T) {
	if testkit.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not exact under the race detector")
	}
	dropping := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	count := func(logger *slog.Logger) float64 {
		u := &upstream{}
		u.answer = always(u, 429, "Retry-After", "3600")
		rt := New(Config{Logger: logger}).Wrap(u)
		send(context.Background(), rt, "http://a.test/") // closes the gate
		req, _ := http.NewRequest("GET", "http://a.test/", nil)
		return testing.AllocsPerRun(100, func() { _, _ = rt.RoundTrip(req) })
	}
	assert.Equal(t, count(nil), count(dropping))
}

// TestSilentDecisionAllocs: every decision the throttle records costs no
// allocation when nobody takes it (a nil logger, or one whose level drops
// it, and no observer). Comparing the two loggers per request, as
// TestSilentLogAllocs does, cannot catch a record built before Enabled is
// asked: both would pay for it.
func TestSilentDecisionAllocs(t *testing.T) {
	dropping := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	req, _ := http.NewRequest("GET", "http://a.test/", nil)
	resp := &http.Response{StatusCode: 429, Header: http.Header{}, Body: http.NoBody}
	h := &host{name: "http://a.test:80"}
	refusal := &Error{Host: h.name, Reason: Gate, Until: time.Now().Add(time.Hour)}
	for _, l := range []*slog.Logger{nil, dropping} {
		th := New(Config{Logger: l})
		decisions := map[string]func(){
			"throttled": func() { th.logDelay(req, h, Concurrency, time.Second) },
			"rejected":  func() { th.logRejection(req, refusal) },
			"paused":    func() { th.logPause(req, h, resp, time.Minute) },
		}
		for name, decide := range decisions {
			assert.Zero(t, testing.AllocsPerRun(100, decide), "%s with logger %v", name, l)
		}
	}
}
