package retry

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/decisiontest"
)

// panicOn503 is the default classifier, panicking on a 503.
type panicOn503 struct{ idempotency.Classifier }

func (c panicOn503) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
		panic(decisiontest.PanicLogValue)
	}
	return c.Classifier.Classify(req, resp, err)
}

// Whatever the stage calls out to — the classifier, the logger, the
// Jitter policy, OnRetry — may panic on the caller's goroutine: the panic
// reaches the caller as it is, and the response the stage held, which the
// caller will never see, is closed on the way out, its attempt's context
// released.
func TestPanicInCalloutClosesResponse(t *testing.T) {
	panicking := func(base, max time.Duration) backoff.BackOff { panic(decisiontest.PanicLogValue) }
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"classifier", Config{Classifier: panicOn503{idempotency.Default}}, []step{status(503)}},
		{"classifier, with an attempt timeout", Config{Classifier: panicOn503{idempotency.Default},
			AttemptTimeout: time.Second}, []step{status(503)}},
		{"logger, giving up", Config{MaxAttempts: 2, Logger: slog.New(&decisiontest.PanicLog{Event: decision.GaveUp})}, []step{status(503)}},
		{"logger, not retrying", Config{Logger: slog.New(&decisiontest.PanicLog{Event: decision.NotRetried})}, []step{status(404)}},
		{"logger, on the outcome", Config{Logger: slog.New(&decisiontest.PanicLog{Event: decision.Outcome}),
			AttemptTimeout: time.Second}, []step{status(200)}},
		{"logger, retrying", Config{Logger: slog.New(&decisiontest.PanicLog{Event: decision.Retry})}, []step{status(503), status(200)}},
		{"Jitter", Config{Jitter: panicking}, []step{status(503)}},
		{"OnRetry", Config{OnRetry: func(RetryInfo) { panic(decisiontest.PanicLogValue) }}, []step{status(503)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(tt.steps...)
				var mu sync.Mutex
				var ctxs []context.Context
				inner := s.Respond
				s.Respond = func(n int, req *http.Request) (*http.Response, error) {
					mu.Lock()
					ctxs = append(ctxs, req.Context())
					mu.Unlock()
					return inner(n, req)
				}
				cfg := tt.cfg
				cfg.Budget = tolerant()
				rt := New(cfg).Wrap(s)
				func() {
					defer func() { assert.Equal(t, decisiontest.PanicLogValue, recover()) }()
					resp, err := rt.RoundTrip(newReq(t, t.Context(), http.MethodGet, ""))
					if err == nil {
						resp.Body.Close()
					}
				}()
				synctest.Wait()
				assert.Zero(t, s.tr.Open(), "every response closed")
				if cfg.AttemptTimeout > 0 {
					for i, ctx := range ctxs {
						assert.Error(t, ctx.Err(), "attempt %d's context not released", i+1)
					}
				}
			})
		})
	}
}
