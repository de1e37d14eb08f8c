package oteltailguard

import (
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tailguard/tailguard/decision"
)

// Base returns base (nil: http.DefaultTransport) instrumented for
// physical attempts: put it under every stage. Each attempt is counted on
// tailguard.attempts and timed on tailguard.attempt.duration, with its
// kind (original, retry or hedge) and outcome: what the classifier of the
// stage that sent it makes of it ([decision.ClassifierOf]). With Config.TracerProvider
// set, base is also wrapped in otelhttp.NewTransport, so each attempt
// gets its own client span, to which Base adds tailguard.attempt.kind,
// tailguard.attempt.number, tailguard.hedge.attempt (under a hedge stage)
// and http.request.resend_count (for retries).
func (in *Instrumentation) Base(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	var rt http.RoundTripper = &attempts{in: in, next: base}
	if in.tracer != nil {
		// otelhttp starts the attempt's span and puts it in the context
		// it passes down, where attempts finds it.
		rt = otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(in.tracer),
			otelhttp.WithMeterProvider(in.meter))
	}
	return rt
}

// attempts is the transport Base puts under the stages.
type attempts struct {
	in   *Instrumentation
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper; req is passed on untouched.
func (t *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	a := decision.AttemptOf(ctx)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		kv := []attribute.KeyValue{
			attribute.String(AttrAttemptKind, string(a.Kind)),
			attribute.Int(AttrAttemptNumber, a.Number()),
		}
		if a.Hedge > 0 {
			kv = append(kv, attribute.Int(AttrHedgeNumber, a.Hedge))
		}
		if a.Retry > 1 {
			kv = append(kv, attribute.Int(attrResendCount, a.Retry-1))
		}
		span.SetAttributes(kv...)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	d := time.Since(start)
	in := t.in
	s := httpSeries(req, resp, err)
	s.c = string(a.Kind)
	in.ins.attemptDuration.Record(ctx, d.Seconds(), in.requests.get(s).rec...)
	// The verdict of the stage that sent the attempt, with its own
	// classifier, so that the count agrees with what it did about it.
	kind := decision.ClassifierOf(ctx).Classify(req, resp, err).Kind
	in.ins.attempts.Add(ctx, 1, in.attempts.get(series{a: string(a.Kind), b: kind.String(), c: s.b}).add...)
	return resp, err
}

// CloseIdleConnections closes next's idle connections if it can.
func (t *attempts) CloseIdleConnections() { closeIdle(t.next) }
