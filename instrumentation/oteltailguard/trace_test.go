package oteltailguard

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// TestSpanTree: through hedge(retry), every physical attempt is a client
// span (otelhttp's) under the caller's span, carrying its kind and
// number, and the decisions are events on the caller's span.
func TestSpanTree(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	mp, _ := newMeter(t)
	in := New(Config{MeterProvider: mp, TracerProvider: tp})

	// The original stalls; the hedge's tries answer 503, 503, 200.
	up := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if hedge.CopyFrom(req.Context()) == 1 {
			return stall(req)
		}
		if retry.AttemptFrom(req.Context()) < 3 {
			return reply(req, 503), nil
		}
		return reply(req, 200), nil
	})
	rt := in.Pipeline(up,
		hedge.New(hedge.Config{Delay: 20 * time.Millisecond}),
		retry.New(retry.Config{BaseDelay: time.Millisecond, Jitter: retry.NoJitter}))

	ctx, caller := tp.Tracer("test").Start(context.Background(), "caller")
	status, err := do(ctx, rt, "GET", "http://api.test/items")
	caller.End()
	require.NoError(t, err)
	require.Equal(t, 200, status)

	spans := rec.Ended()
	require.Len(t, spans, 5, "the caller's span and four attempts")
	var root sdktrace.ReadOnlySpan
	type attemptSpan struct {
		kind                  string
		number, hedge, resend int64
	}
	var attempts []attemptSpan
	for _, s := range spans {
		if s.Name() == "caller" {
			root = s
			continue
		}
		assert.Equal(t, caller.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the caller's span", s.Name())
		a := attemptSpan{}
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case AttrAttemptKind:
				a.kind = kv.Value.AsString()
			case AttrAttemptNumber:
				a.number = kv.Value.AsInt64()
			case AttrHedgeNumber:
				a.hedge = kv.Value.AsInt64()
			case attrResendCount:
				a.resend = kv.Value.AsInt64()
			}
		}
		attempts = append(attempts, a)
	}
	require.NotNil(t, root)
	assert.ElementsMatch(t, []attemptSpan{
		{kind: "original", number: 1, hedge: 1},
		{kind: "hedge", number: 1, hedge: 2},
		{kind: "retry", number: 2, hedge: 2, resend: 1},
		{kind: "retry", number: 3, hedge: 2, resend: 2},
	}, attempts)

	assert.Equal(t, []string{
		"tailguard.hedge hedge delay",
		"tailguard.retry retry backoff",
		"tailguard.retry retry backoff",
		"tailguard.hedge_won hedge ",
		"tailguard.outcome hedge success",
	}, callerEvents(spans))
}

// callerEvents are the events on the span named caller, as
// "name stage reason".
func callerEvents(spans []sdktrace.ReadOnlySpan) []string {
	var events []string
	for _, s := range spans {
		if s.Name() != "caller" {
			continue
		}
		for _, e := range s.Events() {
			set := attribute.NewSet(e.Attributes...)
			stage, _ := set.Value(AttrStage)
			reason, _ := set.Value(AttrReason)
			events = append(events, e.Name+" "+stage.AsString()+" "+reason.AsString())
		}
	}
	return events
}

// TestSpanEventsBreakerThrottle: the throttle's and the breaker's
// decisions are events on the caller's span too: a pause, a refusal at
// the closed gate, a wait at it, the breaker opening, and its refusal.
func TestSpanEventsBreakerThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		defer tp.Shutdown(context.Background())
		mp, _ := newMeter(t)
		in := New(Config{MeterProvider: mp, TracerProvider: tp})
		up := stub(func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				// The policy announces a quota too roomy to pace by, so
				// that the gate is all the throttle applies.
				return reply(req, 429, "Retry-After", "2", "RateLimit-Policy", `"roomy";q=100000;w=1`), nil
			}
			return reply(req, 500), nil
		})
		rt := in.Pipeline(up.transport(),
			throttle.New(throttle.Config{}),
			breaker.New(breaker.Config{ConsecutiveFailures: 1, FailureRatio: -1, OpenTimeout: time.Hour}))

		ctx, caller := tp.Tracer("test").Start(context.Background(), "caller")
		do(ctx, rt, "GET", "http://q.test/") // 429: the gate closes for 2 s
		short, cancel := context.WithTimeout(ctx, time.Second)
		_, err := do(short, rt, "GET", "http://q.test/") // cannot wait 2 s
		cancel()
		require.ErrorIs(t, err, throttle.ErrThrottled)
		do(ctx, rt, "GET", "http://q.test/") // waits, then a 500 opens the breaker
		// Past the gate's release window, which requests arriving during
		// it wait out at the gate.
		time.Sleep(throttle.DefaultReleaseWindow)
		_, err = do(ctx, rt, "GET", "http://q.test/")
		require.ErrorIs(t, err, breaker.ErrOpen)
		caller.End()

		assert.Equal(t, []string{
			"tailguard.paused throttle pushback",
			"tailguard.rejected throttle gate",
			"tailguard.throttled throttle gate",
			"tailguard.state_change breaker failures",
			"tailguard.rejected breaker open",
		}, callerEvents(rec.Ended()))
	})
}
