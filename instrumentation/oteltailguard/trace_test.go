package oteltailguard

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/retry"
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
		if hedge.AttemptFrom(req.Context()) == 1 {
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

	var events []string
	for _, e := range root.Events() {
		set := attribute.NewSet(e.Attributes...)
		stage, _ := set.Value(AttrStage)
		reason, _ := set.Value(AttrReason)
		events = append(events, e.Name+" "+stage.AsString()+" "+reason.AsString())
	}
	assert.Equal(t, []string{
		"tailguard.hedge hedge delay",
		"tailguard.retry retry backoff",
		"tailguard.retry retry backoff",
		"tailguard.outcome retry success",
		"tailguard.outcome retry canceled",
		"tailguard.outcome hedge success",
	}, events)
}
