package hedge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/hostkey"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestDecisionLog checks the client stage's records exactly, on the fake
// clock.
func TestDecisionLog(t *testing.T) {
	denying := func() *budget.Budget { return budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9}) }
	pause := func(req *http.Request) (*http.Response, error) {
		resp := testkit.Respond(req, 503, "", nil)
		resp.Header.Set("Retry-After", "5")
		return resp, nil
	}
	tests := []struct {
		name    string
		cfg     Config
		respond func(n int, req *http.Request) (*http.Response, error)
		getBody func() (io.ReadCloser, error)
		want    []string
	}{
		{"hedge wins after its delay", Config{Delay: 10 * time.Millisecond},
			func(n int, req *http.Request) (*http.Response, error) {
				if n == 1 {
					return after(req, time.Second, 200, nil)
				}
				return after(req, time.Millisecond, 200, nil)
			}, nil,
			[]string{"hedge attempt=2 reason=delay wait=10ms", "hedge_won attempt=2 status=200",
				"outcome attempt=2 reason=success status=200"}},
		{"a failure fires the hedge at once", Config{Delay: time.Second},
			func(n int, req *http.Request) (*http.Response, error) {
				if n == 1 {
					return after(req, 5*time.Millisecond, 502, nil)
				}
				return after(req, time.Millisecond, 200, nil)
			}, nil,
			[]string{"hedge attempt=2 reason=failure wait=5ms", "hedge_won attempt=2 status=200",
				"outcome attempt=2 reason=success status=200"}},
		{"budget denies the hedge", Config{Delay: 10 * time.Millisecond, Budget: denying()},
			func(n int, req *http.Request) (*http.Response, error) { return after(req, time.Second, 200, nil) }, nil,
			[]string{"hedge_denied attempt=2 reason=budget", "outcome attempt=1 reason=success status=200"}},
		{"body cannot be produced again", Config{Delay: 10 * time.Millisecond},
			func(n int, req *http.Request) (*http.Response, error) { return after(req, time.Second, 200, nil) },
			func() (io.ReadCloser, error) { return nil, errors.New("no body") },
			[]string{"hedge_denied attempt=2 reason=body error=attempt 2: GetBody: no body", "outcome attempt=1 reason=success status=200"}},
		{"pushback stops hedging", Config{Delay: time.Second, MaxHedges: 2},
			func(n int, req *http.Request) (*http.Response, error) { return pause(req) }, nil,
			[]string{"hedging_stopped attempt=1 reason=pushback status=503", "outcome reason=throttled status=503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logger, logs := testkit.NewLogs(slog.LevelDebug)
				cfg := tt.cfg
				cfg.Logger = logger
				req := newGet(t)
				if tt.getBody != nil {
					req, _ = http.NewRequest("PUT", "http://upstream.test/x", strings.NewReader("b"))
					req.GetBody = tt.getBody
				}
				resp, err := New(cfg).Wrap(&testkit.Stub{Respond: tt.respond}).RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				synctest.Wait()
				assert.Equal(t, tt.want, logs.Lines())
				for _, r := range logs.Records() {
					assert.Equal(t, "hedge", r.Attrs["stage"])
					assert.Equal(t, "http://upstream.test:80", r.Attrs["host"])
				}
			})
		})
	}
}

// TestDecisionLogInnerPause: an inner stage's reported pause stops
// hedging, and the record says which attempt reported it.
func TestDecisionLogInnerPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			attempt.Pause(req.Context(), time.Now().Add(5*time.Second))
			return after(req, time.Second, 200, nil)
		}}
		resp, err := New(Config{Delay: 10 * time.Millisecond, Logger: logger}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, []string{"hedging_stopped attempt=1 reason=pushback", "outcome attempt=1 reason=success status=200"}, logs.Lines())
		assert.Equal(t, 1, stub.Calls())
	})
}

// TestMiddlewareDecisionLog checks the server side's records.
func TestMiddlewareDecisionLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		runs := 0
		h := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond, Logger: logger}}).Handler(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if IsHedge(r.Context()) {
					w.WriteHeader(204)
					return
				}
				runs++
				_ = testkit.Sleep(r.Context(), time.Second)
			}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://svc.test/r", nil))
		synctest.Wait()
		assert.Equal(t, 204, rec.Code)
		assert.Equal(t, []string{"hedge attempt=2 reason=delay wait=10ms", "hedge_won attempt=2 status=204",
			"outcome attempt=2 reason=success status=204"}, logs.Lines())
		for _, r := range logs.Records() {
			assert.Equal(t, "hedge_middleware", r.Attrs["stage"])
		}
	})
}

// TestSilentLogAllocs: a nil logger and a logger whose level drops every
// decision cost the same allocations per request, hedged or not.
func TestSilentLogAllocs(t *testing.T) {
	if testkit.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not exact under the race detector")
	}
	dropping := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	req := newGet(t)
	ok := testkit.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	count := func(logger *slog.Logger) float64 {
		rt := New(Config{Delay: time.Hour, Logger: logger}).Wrap(ok)
		return testing.AllocsPerRun(500, func() {
			resp, _ := rt.RoundTrip(req)
			resp.Body.Close()
		})
	}
	assert.Equal(t, count(nil), count(dropping))
}

// TestSilentDecisionAllocs: every decision the stage records costs no
// allocation when nobody takes it (a nil logger, or one whose level drops
// it, and no observer), a hedge to a replica (whose key a record would
// spell out) included. Comparing the two loggers per request, as
// TestSilentLogAllocs does, cannot catch a record built before Enabled is
// asked: both would pay for it.
func TestSilentDecisionAllocs(t *testing.T) {
	dropping := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	ctx := context.Background()
	req := newGet(t)
	to := &replica{replicaAddr: replicaAddr{addr: "b.test:8080", host: "b.test:8080", key: hostkey.Key{Host: "b.test", Port: 8080}}}
	won := &CompleteInfo{Request: req, Winner: 2, StatusCode: 200}
	failed := errors.New("attempt 2: GetBody: no body")
	for _, l := range []*slog.Logger{nil, dropping} {
		decisions := map[string]func(){
			"hedge":           func() { logHedge(ctx, l, decision.StageHedge, req, to, 2, ReasonDelay, time.Millisecond) },
			"hedge_denied":    func() { logDenied(ctx, l, decision.StageHedge, req, 2, decision.ReasonBody, failed) },
			"hedging_stopped": func() { logStopped(ctx, l, decision.StageMiddleware, req, 1, 429) },
			"hedge_won":       func() { logWon(ctx, l, decision.StageHedge, won, to) },
		}
		for name, decide := range decisions {
			assert.Zero(t, testing.AllocsPerRun(100, decide), "%s with logger %v", name, l)
		}
	}
}
