package oteltailguard

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
)

// The Instrumentation is a decision.Observer.
var _ decision.Observer = (*Instrumentation)(nil)

// outcomeRejected is tailguard.outcome of an attempt a stage refused.
var outcomeRejected = idempotency.Rejected.String()

// Observe implements [decision.Observer]: it counts e on the metric that
// describes it, and adds it as an event, named "tailguard." and the
// event's name, to the span in ctx (the caller's: attempt spans start
// below the stages) if that span records. Stages call it; users do not.
func (in *Instrumentation) Observe(ctx context.Context, e decision.Event) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("tailguard."+string(e.Name), trace.WithAttributes(eventAttrs(&e)...))
	}
	host, _ := e.ServerAddress()
	ins := &in.ins
	switch e.Name {
	case decision.Hedge:
		ins.hedges.Add(ctx, 1, in.byReason.get(series{a: string(e.Stage), b: string(e.Reason), c: host}).add...)
	case decision.HedgeDenied:
		if e.Reason == decision.ReasonBudget {
			ins.budgetDenials.Add(ctx, 1, in.byStage.get(series{a: string(e.Stage), c: host}).add...)
		}
	case decision.Retry:
		ins.retries.Add(ctx, 1, in.byReason.get(series{b: string(e.Reason), c: host}).add...)
	case decision.GaveUp:
		ins.giveUps.Add(ctx, 1, in.byReason.get(series{b: string(e.Reason), c: host}).add...)
		if e.Reason == decision.ReasonBudget {
			ins.budgetDenials.Add(ctx, 1, in.byStage.get(series{a: string(e.Stage), c: host}).add...)
		}
	case decision.HedgeWon:
		ins.hedgeWins.Add(ctx, 1, in.byStage.get(series{a: string(e.Stage), c: host}).add...)
	case decision.Rejected:
		// The refused attempt never reaches Base: count it here, with the
		// stage that refused it. ctx is the attempt's.
		kind := decision.AttemptOf(ctx).Kind
		ins.attempts.Add(ctx, 1, in.attempts.get(series{a: string(kind), b: outcomeRejected, c: host, d: string(e.Stage)}).add...)
		if e.Stage == decision.StageBreaker {
			state := "open"
			if e.Reason == decision.ReasonHalfOpen {
				state = "half-open"
			}
			ins.breakerRejections.Add(ctx, 1, in.rejections.get(series{b: state, c: host}).add...)
		} else {
			ins.throttleRejections.Add(ctx, 1, in.byReason.get(series{b: string(e.Reason), c: host}).add...)
		}
	case decision.Throttled:
		ins.throttleWait.Record(ctx, e.Wait.Seconds(), in.byReason.get(series{b: string(e.Reason), c: host}).rec...)
	case decision.Paused:
		ins.pauses.Add(ctx, 1, in.byHost.get(series{c: host}).add...)
	case decision.StateChange:
		ins.transitions.Add(ctx, 1, in.transitions.get(series{a: e.From, b: e.To, c: host}).add...)
	}
}

// eventAttrs are e's attributes on a span event.
func eventAttrs(e *decision.Event) []attribute.KeyValue {
	kv := []attribute.KeyValue{attribute.String(AttrStage, string(e.Stage))}
	if e.Reason != "" {
		kv = append(kv, attribute.String(AttrReason, string(e.Reason)))
	}
	if e.Attempt != 0 {
		kv = append(kv, attribute.Int(AttrAttemptNumber, e.Attempt))
	}
	if e.Wait != 0 {
		kv = append(kv, attribute.Float64(AttrWait, e.Wait.Seconds()))
	}
	if e.Status != 0 {
		kv = append(kv, attribute.Int(attrStatusCode, e.Status))
	}
	if e.Err != nil {
		kv = append(kv, attribute.String(AttrError, e.Err.Error()))
	}
	if e.Name == decision.StateChange {
		kv = append(kv, attribute.String(AttrBreakerFrom, e.From), attribute.String(AttrBreakerState, e.To))
	}
	if host, _ := e.ServerAddress(); host != "" {
		kv = append(kv, attribute.String(attrServerAddress, host))
	}
	return kv
}
