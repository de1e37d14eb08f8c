// Package oteltailguard instruments tailguard's stages with OpenTelemetry:
// metrics for logical requests, physical attempts and every decision the
// stages take (hedges sent and won, retries and give-ups by reason, budget
// denials, breaker states, transitions and refusals, throttle waits,
// refusals and pauses), a client span per physical attempt (through
// otelhttp) carrying the attempt's kind and number, and each decision as
// an event on the caller's span.
//
// One call instruments a pipeline:
//
//	inst := oteltailguard.New(oteltailguard.Config{MeterProvider: mp, TracerProvider: tp})
//	client := inst.Pipeline(nil,
//		hedge.New(hedge.Config{}), retry.New(retry.Config{}),
//		throttle.New(throttle.Config{}), breaker.New(breaker.Config{}),
//	).Client()
//
// No stage is configured for it and no hook is wired: the stages report to
// the Instrumentation through the request's context (see the
// github.com/tailguard/tailguard/decision package), so the stages' own
// hooks and loggers keep working unchanged. Cardinality is bounded: no
// URL path is ever recorded, an upstream only as server.address (and
// server.port), methods outside the standard ones as _OTHER, and every
// other attribute takes a fixed set of values.
//
// The metric table, with units and attributes and the names Polly and
// resilience4j use for the same things, is in this module's README.
//
// The module is nested (its own go.mod), so the core module depends on no
// OpenTelemetry package. Its path follows opentelemetry-go-contrib's
// naming: instrumentation/<what is instrumented>/otel<name>; what is
// instrumented is this repository itself, so the middle is empty.
package oteltailguard
