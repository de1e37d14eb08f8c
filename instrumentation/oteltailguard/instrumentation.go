package oteltailguard

import (
	"net/http"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/pipeline"
)

// Config says where an [Instrumentation] reports. The zero value reports
// metrics to the global MeterProvider and gives attempts no spans.
type Config struct {
	// MeterProvider provides the meter every metric is recorded on. If
	// nil, otel.GetMeterProvider().
	MeterProvider metric.MeterProvider

	// TracerProvider, if non-nil, gives every physical attempt its own
	// client span: [Instrumentation.Base] then wraps the base transport in
	// otelhttp.NewTransport with this provider (and MeterProvider), as
	// the HTTP semantic conventions ask, and adds the attempt's kind and
	// number to each span. If nil, attempts get no spans; decisions are
	// still added as events to the caller's span, whenever the request's
	// context carries one that records.
	TracerProvider trace.TracerProvider
}

// Instrumentation turns the decisions of tailguard's stages into
// OpenTelemetry metrics and span events, and measures logical requests
// and physical attempts. [New] makes one; [Instrumentation.Pipeline]
// instruments a whole pipeline (or a single stage) in one call.
//
// # How it sees the stages
//
// No stage is configured for it: the transport [Instrumentation.Wrap]
// returns puts the Instrumentation in each request's context as a
// [decision.Observer], and every stage below calls it with each decision
// it takes (see the decision package). The stages' own hooks (OnRetry,
// OnHedge, OnComplete, OnStateChange, OnThrottle) and loggers are left
// alone and keep working. The transport [Instrumentation.Base] returns
// sits below every stage and sees each physical attempt, and which
// attempt it is ([decision.AttemptOf]).
//
// # Assembling the pipeline yourself
//
// Pipeline(base, stages...) is shorthand for
//
//	in.WatchBreaker(b) // for every *breaker.Breaker b among the stages
//	pipeline.NewWithBase(in.Base(base), append([]pipeline.Stage{in}, stages...)...)
//
// The Instrumentation is a pipeline.Stage ([Instrumentation.Wrap]): put
// it outermost, so that it measures logical requests and every stage
// below reports to it, and Base under every stage, so that it sees
// physical attempts. A breaker that is not watched still has its
// transitions and refusals counted, but no gauge reports its state.
//
// # Cost
//
// An idle request (no retry, no hedge, nothing throttled or refused)
// costs two allocations more than without the instrumentation: the
// request copy that carries the new context, and the context node. Every
// measurement reuses an attribute set built the first time its
// combination of attributes was seen.
//
// # Concurrency
//
// An Instrumentation is safe for concurrent use; one may instrument many
// pipelines, which then share its instruments.
type Instrumentation struct {
	ins    instruments
	tracer trace.TracerProvider
	meter  metric.MeterProvider

	requests, attempts, byStage, byReason, byHost, transitions, rejections *optCache

	mu       sync.Mutex // guards breakers
	breakers []*breaker.Breaker
	gauge    metric.Registration
	err      error // what creating the instruments reported
}

// New returns an Instrumentation reporting where cfg says.
func New(cfg Config) *Instrumentation {
	in := &Instrumentation{tracer: cfg.TracerProvider, meter: cfg.MeterProvider}
	if in.meter == nil {
		in.meter = otel.GetMeterProvider()
	}
	m := in.meter.Meter(meterName)
	in.ins, in.err = newInstruments(m)
	in.requests = newOptCache(httpAttrs)
	in.attempts = newOptCache(func(s series) []attribute.KeyValue {
		kv := []attribute.KeyValue{attribute.String(AttrAttemptKind, s.a), attribute.String(AttrOutcome, s.b),
			attribute.String(attrServerAddress, s.c)}
		if s.d != "" { // the stage that refused the attempt
			kv = append(kv, attribute.String(AttrStage, s.d))
		}
		return kv
	})
	in.byStage = newOptCache(func(s series) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String(AttrStage, s.a), attribute.String(attrServerAddress, s.c)}
	})
	in.byReason = newOptCache(func(s series) []attribute.KeyValue {
		kv := []attribute.KeyValue{attribute.String(AttrReason, s.b), attribute.String(attrServerAddress, s.c)}
		if s.a != "" {
			kv = append(kv, attribute.String(AttrStage, s.a))
		}
		return kv
	})
	in.byHost = newOptCache(func(s series) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String(attrServerAddress, s.c)}
	})
	in.transitions = newOptCache(func(s series) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String(AttrBreakerFrom, s.a), attribute.String(AttrBreakerState, s.b),
			attribute.String(attrServerAddress, s.c)}
	})
	in.rejections = newOptCache(func(s series) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String(AttrBreakerState, s.b), attribute.String(attrServerAddress, s.c)}
	})
	return in
}

// Err reports whether creating the instruments failed (the
// MeterProvider refused a name or unit); the failed instruments record
// nothing, the others work.
func (in *Instrumentation) Err() error { return in.err }

// Pipeline chains stages over base, the first stage outermost, as
// pipeline.NewWithBase does, and instruments the whole: requests and decisions
// through [Instrumentation.Wrap] around the outermost stage, attempts
// through [Instrumentation.Base] around base (nil: http.DefaultTransport),
// and the state of every *breaker.Breaker among stages as the
// tailguard.breaker.state gauge ([Instrumentation.WatchBreaker]). With a
// single stage it instruments that stage. It panics if a stage is nil, as pipeline.NewWithBase does.
func (in *Instrumentation) Pipeline(base http.RoundTripper, stages ...pipeline.Stage) *pipeline.Pipeline {
	for _, s := range stages {
		if b, ok := s.(*breaker.Breaker); ok {
			in.WatchBreaker(b)
		}
	}
	if base == nil {
		base = http.DefaultTransport
	}
	all := append([]pipeline.Stage{in}, stages...)
	return pipeline.NewWithBase(in.Base(base), all...)
}
