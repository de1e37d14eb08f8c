package oteltailguard

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// countingHandler counts the records a logger takes.
type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// TestUserHooksKeepWorking: instrumenting a pipeline leaves every hook and
// logger the user configured in place.
func TestUserHooksKeepWorking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		var retries, hedges, completes, changes atomic.Int64
		logs := &countingHandler{}
		logger := slog.New(logs)
		up := stub(func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return after(req, time.Second, 503)
			}
			return after(req, time.Millisecond, 200)
		})
		rt := in.Pipeline(up.transport(),
			hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Logger: logger,
				OnHedge:    func(hedge.HedgeInfo) { hedges.Add(1) },
				OnComplete: func(hedge.CompleteInfo) { completes.Add(1) }}),
			retry.New(retry.Config{Logger: logger}),
			throttle.New(throttle.Config{Logger: logger}),
			breaker.New(breaker.Config{Logger: logger}))
		_, err := do(t.Context(), rt, "GET", "http://api.test/")
		assert.NoError(t, err)
		synctest.Wait()
		assert.Equal(t, int64(1), hedges.Load())
		assert.Equal(t, int64(1), completes.Load())
		assert.Positive(t, logs.n.Load())
		ps, _ := collect(t, reader)
		assert.Equal(t, float64(1), ps[MetricHedges]["reason=delay,server.address=api.test,stage=hedge"])

		// A failing host: one retry, which finds the breaker open.
		failing := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 500), nil })
		rt = in.Pipeline(failing.transport(),
			retry.New(retry.Config{Logger: logger, OnRetry: func(retry.RetryInfo) { retries.Add(1) }}),
			breaker.New(breaker.Config{ConsecutiveFailures: 1, FailureRatio: -1, Logger: logger,
				OnStateChange: func(breaker.StateChange) { changes.Add(1) }}))
		_, err = do(t.Context(), rt, "GET", "http://b.test/")
		assert.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, int64(1), retries.Load())
		assert.Equal(t, int64(1), changes.Load())
		ps, _ = collect(t, reader)
		assert.Equal(t, float64(1), ps[MetricRetries]["reason=backoff,server.address=b.test"])
		assert.Equal(t, float64(1), ps[MetricBreakerTransitions]["breaker.from=closed,breaker.state=open,server.address=b.test"])
	})
}
