package throttle

import (
	"context"
	"io"
	"log/slog"
	"net/http"
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
