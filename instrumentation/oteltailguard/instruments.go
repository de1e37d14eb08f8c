package oteltailguard

import (
	"go.opentelemetry.io/otel/metric"
)

// Metric names. The module README's table gives each one's unit and attributes
// beside Polly's and resilience4j's names.
const (
	MetricRequestDuration    = "tailguard.request.duration"
	MetricAttemptDuration    = "tailguard.attempt.duration"
	MetricAttempts           = "tailguard.attempts"
	MetricHedges             = "tailguard.hedges"
	MetricHedgeWins          = "tailguard.hedge.wins"
	MetricBudgetDenials      = "tailguard.budget.denials"
	MetricRetries            = "tailguard.retries"
	MetricGiveUps            = "tailguard.retry.give_ups"
	MetricBreakerState       = "tailguard.breaker.state"
	MetricBreakerTransitions = "tailguard.breaker.transitions"
	MetricBreakerRejections  = "tailguard.breaker.rejections"
	MetricThrottleWait       = "tailguard.throttle.wait"
	MetricThrottleRejections = "tailguard.throttle.rejections"
	MetricThrottlePauses     = "tailguard.throttle.pauses"
)

// Attribute keys of tailguard's own; the others are the OpenTelemetry
// HTTP semantic conventions' (http.request.method, server.address,
// server.port, http.response.status_code, error.type).
const (
	AttrStage          = "tailguard.stage"          // hedge, hedge_middleware, retry, breaker, throttle
	AttrReason         = "tailguard.reason"         // the decision package's reasons
	AttrAttemptKind    = "tailguard.attempt.kind"   // original, retry, hedge
	AttrAttemptNumber  = "tailguard.attempt.number" // the attempt's number, 1 for the first
	AttrHedgeNumber    = "tailguard.hedge.attempt"  // the hedge stage's attempt number, on attempt spans
	AttrOutcome        = "tailguard.outcome"        // an attempt's outcome kind: success, final, transient, ...
	AttrBreakerState   = "tailguard.breaker.state"  // closed, half-open, open
	AttrBreakerFrom    = "tailguard.breaker.from"   // the state a transition left
	AttrWait           = "tailguard.wait"           // a decision's wait, in seconds, on span events
	AttrError          = "tailguard.error"          // a decision's error text, on span events
	attrMethod         = "http.request.method"
	attrServerAddress  = "server.address"
	attrServerPort     = "server.port"
	attrStatusCode     = "http.response.status_code"
	attrErrorType      = "error.type"
	attrResendCount    = "http.request.resend_count"
	meterName          = "github.com/tailguard/tailguard/instrumentation/oteltailguard"
	unitSeconds        = "s"
	unitRequest        = "{request}"
	unitAttempt        = "{attempt}"
	unitTransition     = "{transition}"
	unitPause          = "{pause}"
	unitBreakerInState = "{state}"
)

// durationBuckets are the HTTP semantic conventions' advice for
// http.client.request.duration, so tailguard's histograms line up with
// otelhttp's.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// instruments are the synchronous instruments of one Instrumentation.
type instruments struct {
	requestDuration, attemptDuration, throttleWait metric.Float64Histogram
	attempts, hedges, hedgeWins, budgetDenials, retries, giveUps,
	transitions, breakerRejections, throttleRejections, pauses metric.Int64Counter
}

// newInstruments creates them on m. Creation errors come from the SDK
// refusing a name or unit, which the tests would catch; a failed
// instrument is still a usable no-op, as the API guarantees, so they are
// joined and returned for New to report, not fatal.
func newInstruments(m metric.Meter) (instruments, error) {
	var ins instruments
	var errs []error
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit(unitSeconds), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		errs = append(errs, err)
		return h
	}
	count := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	ins.requestDuration = hist(MetricRequestDuration, "Duration of logical requests through the pipeline, every attempt, wait and hedge included.")
	ins.attemptDuration = hist(MetricAttemptDuration, "Duration of physical attempts, to response headers or error.")
	ins.throttleWait = hist(MetricThrottleWait, "Time requests waited in the throttle before they were sent.")
	ins.attempts = count(MetricAttempts, unitAttempt, "Attempts, sent or refused unsent by a stage, by kind and outcome.")
	ins.hedges = count(MetricHedges, unitAttempt, "Hedges sent, by why.")
	ins.hedgeWins = count(MetricHedgeWins, unitRequest, "Requests won by a hedge.")
	ins.budgetDenials = count(MetricBudgetDenials, unitAttempt, "Retries and hedges the budget refused.")
	ins.retries = count(MetricRetries, unitAttempt, "Retries sent, by where their wait came from.")
	ins.giveUps = count(MetricGiveUps, unitRequest, "Requests a retry could have helped but was not allowed, by why.")
	ins.transitions = count(MetricBreakerTransitions, unitTransition, "Breaker state changes.")
	ins.breakerRejections = count(MetricBreakerRejections, unitRequest, "Requests refused by an open or busy half-open breaker.")
	ins.throttleRejections = count(MetricThrottleRejections, unitRequest, "Requests the throttle refused, by why.")
	ins.pauses = count(MetricThrottlePauses, unitPause, "Pauses an upstream asked for that closed its host's gate.")
	return ins, joinErrs(errs)
}
