package retry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestDecisionLog checks the record of every decision, exactly: which
// event, attempt, reason, wait, status and error, in order.
func TestDecisionLog(t *testing.T) {
	denying := budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9})
	tests := []struct {
		name   string
		method string
		cfg    Config
		ctx    func() (context.Context, context.CancelFunc)
		steps  []step
		want   []string
	}{
		{"retried twice", "GET", Config{}, nil,
			[]step{{status: 503}, {status: 503}, {status: 200}},
			[]string{
				"retry attempt=1 reason=backoff wait=1ms status=503",
				"retry attempt=2 reason=backoff wait=2ms status=503",
				"outcome attempt=3 reason=success status=200",
			}},
		{"final 404", "GET", Config{}, nil, []step{{status: 404}},
			[]string{"not_retried attempt=1 reason=final status=404", "outcome attempt=1 reason=final status=404"}},
		{"POST without Idempotency-Key", "POST", Config{}, nil, []step{{status: 503}},
			[]string{"gave_up attempt=1 reason=not_replayable status=503", "outcome attempt=1 reason=transient status=503"}},
		{"Retry-After above MaxRetryAfter", "GET", Config{}, nil,
			[]step{{status: 429, header: http.Header{"Retry-After": {"3600"}}}},
			[]string{"gave_up attempt=1 reason=retry_after_too_long wait=1h0m0s status=429",
				"outcome attempt=1 reason=throttled status=429"}},
		{"deadline too close", "GET", Config{BaseDelay: time.Hour, MaxDelay: time.Hour},
			func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Minute)
			},
			[]step{{status: 502}},
			[]string{"gave_up attempt=1 reason=deadline status=502", "outcome attempt=1 reason=transient status=502"}},
		{"budget denied", "GET", Config{Budget: denying}, nil, []step{{status: 503}},
			[]string{"gave_up attempt=1 reason=budget status=503", "outcome attempt=1 reason=transient status=503"}},
		{"attempts exhausted", "GET", Config{MaxAttempts: 2}, nil, []step{{err: errors.New("reset")}},
			[]string{"retry attempt=1 reason=backoff wait=1ms error=reset",
				"gave_up attempt=2 reason=attempts_exhausted error=reset",
				"outcome attempt=2 reason=transient error=retry: gave up after 2 attempts: reset"}},
		{"a Retry-After of 0 asks no pause: the backoff", "GET", Config{MaxRetryAfter: time.Minute}, nil,
			[]step{{status: 503, header: http.Header{"Retry-After": {"0"}}}, {status: 204}},
			[]string{"retry attempt=1 reason=backoff wait=1ms status=503", "outcome attempt=2 reason=success status=204"}},
		{"caller leaves during the wait: no retry", "GET", Config{BaseDelay: time.Hour, MaxDelay: time.Hour},
			func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				return ctx, cancel
			},
			[]step{{status: 503}},
			[]string{"outcome attempt=1 reason=canceled error=context canceled"}},
		{"success at once", "GET", Config{}, nil, []step{{status: 200}},
			[]string{"outcome attempt=1 reason=success status=200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := testkit.NewLogs(slog.LevelDebug)
			cfg := tt.cfg
			cfg.Logger = logger
			cfg.Jitter = NoJitter
			if cfg.BaseDelay == 0 {
				cfg.BaseDelay = time.Millisecond
			}
			ctx := context.Background()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}
			req, err := http.NewRequestWithContext(ctx, tt.method, "http://api.test/x", strings.NewReader("b"))
			require.NoError(t, err)
			resp, err := New(cfg).Wrap(newScript(tt.steps...)).RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			_ = err
			assert.Equal(t, tt.want, logs.Lines())
			for _, r := range logs.Records() {
				assert.Equal(t, "retry", r.Attrs["stage"])
				assert.Equal(t, "http://api.test:80", r.Attrs["host"])
				assert.Equal(t, decision.Name(r.Attrs["event"]).Level(), r.Level)
				assert.Equal(t, decision.Name(r.Attrs["event"]).Message(), r.Message)
			}
		})
	}
}

// TestDecisionLogServerWait: a wait the server asked for is logged as
// such, with the wait taken (the Retry-After, spread a little above).
func TestDecisionLogServerWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		s := newScript(retryAfter(503, "1"), status(204))
		resp, err := New(Config{Logger: logger}).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		recs := logs.Records()
		require.Len(t, recs, 2)
		assert.Equal(t, "retry", recs[0].Attrs["event"])
		assert.Equal(t, "retry_after", recs[0].Attrs["reason"])
		wait, err := time.ParseDuration(recs[0].Attrs["wait"])
		require.NoError(t, err)
		assert.Equal(t, s.gaps(), []time.Duration{wait})
		assert.GreaterOrEqual(t, wait, time.Second)
		assert.LessOrEqual(t, wait, spread(time.Second, 1))
	})
}

// TestDecisionLogLevels: a logger at Warn sees only the give-ups.
func TestDecisionLogLevels(t *testing.T) {
	logger, logs := testkit.NewLogs(slog.LevelWarn)
	req, _ := http.NewRequest("GET", "http://api.test/", nil)
	resp, err := New(Config{Logger: logger, MaxAttempts: 2, BaseDelay: time.Millisecond}).
		Wrap(newScript(step{status: 503})).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{"gave_up attempt=2 reason=attempts_exhausted status=503"}, logs.Lines())
}

// observed collects the events an observer in the context receives.
type observed struct{ events []decision.Event }

func (o *observed) Observe(_ context.Context, e decision.Event) { o.events = append(o.events, e) }

// TestDecisionObserver: an observer in the request's context sees every
// decision without a logger.
func TestDecisionObserver(t *testing.T) {
	o := &observed{}
	req, _ := http.NewRequestWithContext(decision.WithObserver(context.Background(), o), "GET", "http://api.test/", nil)
	resp, err := New(Config{BaseDelay: time.Millisecond}).Wrap(newScript(step{status: 503}, step{status: 200})).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, o.events, 2)
	assert.Equal(t, decision.Retry, o.events[0].Name)
	assert.Equal(t, 503, o.events[0].Status)
	assert.Equal(t, decision.Outcome, o.events[1].Name)
	assert.Same(t, req, o.events[1].Request)
}

// TestSilentLogAllocs: a nil logger and a logger whose level drops every
// decision cost the same allocations per request.
func TestSilentLogAllocs(t *testing.T) {
	if testkit.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not exact under the race detector")
	}
	dropping := slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError}))
	req, _ := http.NewRequest("GET", "http://api.test/", nil)
	count := func(logger *slog.Logger) float64 {
		rt := New(Config{Logger: logger, MaxAttempts: 2, BaseDelay: time.Nanosecond, Jitter: NoJitter}).
			Wrap(testkit.RoundTripFunc(okOnce()))
		return testing.AllocsPerRun(200, func() {
			resp, _ := rt.RoundTrip(req)
			resp.Body.Close()
		})
	}
	assert.Equal(t, count(nil), count(dropping))
}

// okOnce answers 503 then 200, alternately, with a shared empty body.
func okOnce() func(*http.Request) (*http.Response, error) {
	n := 0
	return func(req *http.Request) (*http.Response, error) {
		n++
		status := 200
		if n%2 == 1 {
			status = 503
		}
		return &http.Response{StatusCode: status, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestSilentDecisionAllocs: every decision the stage records costs no
// allocation when nobody takes it (a nil logger, or one whose level drops
// it, and no observer). Comparing the two loggers' counts per request, as
// TestSilentLogAllocs does, cannot catch a record built before Enabled is
// asked, since both would pay for it; zero can.
func TestSilentDecisionAllocs(t *testing.T) {
	dropping := slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	ctx := context.Background()
	req, _ := http.NewRequest("GET", "http://api.test/x", nil)
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3600"}}, Body: http.NoBody}
	failed := &result{resp: resp, out: idempotency.Outcome{Kind: idempotency.Throttled}}
	broken := &result{err: errors.New("reset"), out: idempotency.Outcome{Kind: idempotency.Transient}}
	for _, logger := range []*slog.Logger{nil, dropping} {
		r := New(Config{Logger: logger})
		decisions := map[string]func(){
			"retry": func() { r.logRetry(ctx, req, 1, failed, verdict{delay: time.Second, server: true}) },
			"not_retried": func() {
				r.logStop(ctx, req, 1, &result{resp: resp, out: idempotency.Outcome{Kind: idempotency.Final}}, verdict{stop: stopPolicy})
			},
			"gave_up":      func() { r.logStop(ctx, req, 1, failed, verdict{stop: stopTooLong}) },
			"hedge_resent": func() { r.logStop(ctx, req, 1, broken, verdict{stop: stopResent}) },
			"outcome":      func() { r.logOutcome(ctx, req, 2, idempotency.Transient, nil, broken.err) },
		}
		for name, decide := range decisions {
			assert.Zero(t, testing.AllocsPerRun(100, decide), "%s with logger %v", name, logger)
		}
	}
}
