package decision_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// upstream answers the n-th physical request (1-based) as answer says.
func upstream(answer func(n int64, req *http.Request) (*http.Response, error)) http.RoundTripper {
	var n atomic.Int64
	return pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		return answer(n.Add(1), req)
	})
}

func status(req *http.Request, code int) (*http.Response, error) {
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// stallFirst stalls the first request until it is canceled and answers
// the others with 200 after 5 ms.
func stallFirst(n int64, req *http.Request) (*http.Response, error) {
	if n == 1 {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	if err := testkit.Sleep(req.Context(), 5*time.Millisecond); err != nil {
		return nil, err
	}
	return status(req, 200)
}

// failTwice answers 503 twice, then 200.
func failTwice(n int64, req *http.Request) (*http.Response, error) {
	if n <= 2 {
		return status(req, 503)
	}
	return status(req, 200)
}

// TestOneOutcomePerRequest: whatever the order of the stages, a logical
// request gets exactly one outcome record, from the outermost stage that
// records outcomes; an attempt canceled because another won records none;
// a hedge's win is recorded in every order.
func TestOneOutcomePerRequest(t *testing.T) {
	hedger := func(l *slog.Logger) pipeline.Stage {
		return hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Logger: l})
	}
	retrier := func(l *slog.Logger) pipeline.Stage {
		return retry.New(retry.Config{BaseDelay: time.Millisecond, Jitter: retry.NoJitter, Logger: l})
	}
	throttler := func(l *slog.Logger) pipeline.Stage { return throttle.New(throttle.Config{Logger: l}) }
	breakerStage := func(l *slog.Logger) pipeline.Stage { return breaker.New(breaker.Config{Logger: l}) }
	tests := []struct {
		name   string
		stages []func(*slog.Logger) pipeline.Stage
		answer func(int64, *http.Request) (*http.Response, error)
		want   []string // the outcome and hedge_won records, in order
	}{
		{"recommended, idle", []func(*slog.Logger) pipeline.Stage{hedger, retrier, throttler, breakerStage},
			func(_ int64, req *http.Request) (*http.Response, error) { return status(req, 200) },
			[]string{"hedge outcome attempt=1 reason=success status=200"}},
		{"recommended, the hedge wins", []func(*slog.Logger) pipeline.Stage{hedger, retrier, throttler, breakerStage},
			stallFirst,
			[]string{"hedge hedge_won attempt=2 status=200", "hedge outcome attempt=2 reason=success status=200"}},
		// The original's failed try is re-sent at once as the hedge,
		// whose own retry succeeds.
		{"hedge(retry), retried", []func(*slog.Logger) pipeline.Stage{hedger, retrier}, failTwice,
			[]string{"hedge hedge_won attempt=2 status=200", "hedge outcome attempt=2 reason=success status=200"}},
		// The first race's original and hedge (sent at once on the
		// failure) both fail; the retry's second race succeeds.
		{"retry(hedge), retried", []func(*slog.Logger) pipeline.Stage{retrier, hedger}, failTwice,
			[]string{"retry outcome attempt=2 reason=success status=200"}},
		{"retry(hedge), the hedge wins", []func(*slog.Logger) pipeline.Stage{retrier, hedger}, stallFirst,
			[]string{"hedge hedge_won attempt=2 status=200", "retry outcome attempt=1 reason=success status=200"}},
		{"retry alone", []func(*slog.Logger) pipeline.Stage{retrier}, failTwice,
			[]string{"retry outcome attempt=3 reason=success status=200"}},
		{"hedge alone", []func(*slog.Logger) pipeline.Stage{hedger}, stallFirst,
			[]string{"hedge hedge_won attempt=2 status=200", "hedge outcome attempt=2 reason=success status=200"}},
		{"retry(retry)", []func(*slog.Logger) pipeline.Stage{retrier, retrier}, failTwice,
			[]string{"retry outcome attempt=1 reason=success status=200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logger, logs := testkit.NewLogs(slog.LevelDebug)
				stages := make([]pipeline.Stage, len(tt.stages))
				for i, s := range tt.stages {
					stages[i] = s(logger)
				}
				req, _ := http.NewRequest("GET", "http://api.test/", nil)
				resp, err := pipeline.NewWithBase(upstream(tt.answer), stages...).RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				synctest.Wait() // the loser's goroutine is done
				assert.Equal(t, tt.want, endings(logs))
			})
		})
	}
}

// endings are the outcome and hedge_won records, as "stage line".
func endings(logs *testkit.Logs) []string {
	var out []string
	lines := logs.Lines()
	for i, r := range logs.Records() {
		if e := r.Attrs["event"]; e == "outcome" || e == "hedge_won" {
			out = append(out, r.Attrs["stage"]+" "+lines[i])
		}
	}
	return out
}

// TestOutcomeUnderMiddleware: a client pipeline a handler calls with the
// request's context serves a logical request of its own, not a run of the
// middleware's: both record their outcome.
func TestOutcomeUnderMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		client := pipeline.NewWithBase(upstream(failTwice),
			retry.New(retry.Config{BaseDelay: time.Millisecond, Jitter: retry.NoJitter, Logger: logger}))
		mw := hedge.NewMiddleware(hedge.MiddlewareConfig{Config: hedge.Config{Delay: time.Hour, Logger: logger}})
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, _ := http.NewRequestWithContext(r.Context(), "GET", "http://backend.test/", nil)
			resp, err := client.RoundTrip(out)
			if err != nil {
				w.WriteHeader(502)
				return
			}
			resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://svc.test/r", nil))
		synctest.Wait()
		assert.Equal(t, 200, rec.Code)
		assert.Equal(t, []string{
			"retry outcome attempt=3 reason=success status=200",
			"hedge_middleware outcome attempt=1 reason=success status=200",
		}, endings(logs))
		var retries int
		for _, l := range logs.Lines() {
			if strings.HasPrefix(l, "retry ") {
				retries++
			}
		}
		assert.Equal(t, 2, retries)
	})
}

// TestOutcomeCallerLeaves: the caller's own cancellation is an outcome,
// recorded once by the outermost stage.
func TestOutcomeCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		rt := pipeline.NewWithBase(upstream(func(_ int64, req *http.Request) (*http.Response, error) {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}),
			hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Logger: logger}),
			retry.New(retry.Config{Logger: logger}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(time.Second, cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.test/", nil)
		_, err := rt.RoundTrip(req)
		require.Error(t, err)
		synctest.Wait()
		assert.Equal(t, []string{"hedge outcome reason=canceled error=context canceled"}, endings(logs))
	})
}
