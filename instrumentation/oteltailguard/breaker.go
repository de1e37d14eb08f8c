package oteltailguard

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/decision"
)

// breakerStates are the values of tailguard.breaker.state, in the order
// the gauge reports them.
var breakerStates = [...]breaker.State{breaker.Closed, breaker.HalfOpen, breaker.Open}

// WatchBreaker adds b's keys to the tailguard.breaker.state gauge: for
// every key, one series per state, 1 for the state it is in and 0 for the
// others (as resilience4j reports its breakers' state), so that
// sum by (state) counts keys per state and a dashboard needs no value
// mapping. Each collection reads b.Snapshot, which also delivers a
// transition that is due (open → half-open) as a decision.
//
// [Instrumentation.Pipeline] watches every breaker among its stages; call
// WatchBreaker for a breaker in a pipeline you assemble yourself (with
// the Instrumentation outermost and [Instrumentation.Base] under the
// stages), or for one shared by several pipelines. Watching a breaker
// again does nothing. The Instrumentation keeps b for its lifetime.
func (in *Instrumentation) WatchBreaker(b *breaker.Breaker) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, known := range in.breakers {
		if known == b {
			return
		}
	}
	in.breakers = append(in.breakers, b)
	if in.gauge != nil {
		return
	}
	m := in.meter.Meter(meterName)
	g, err := m.Int64ObservableGauge(MetricBreakerState, metric.WithUnit(unitBreakerInState),
		metric.WithDescription("1 for the state each breaker key is in, 0 for the others."))
	if err != nil {
		in.err = joinErrs([]error{in.err, err})
		return
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		in.mu.Lock()
		bs := append([]*breaker.Breaker(nil), in.breakers...)
		in.mu.Unlock()
		for _, b := range bs {
			for _, st := range b.Snapshot() {
				host, port := (&decision.Event{Host: st.Key}).ServerAddress()
				for _, s := range breakerStates {
					v := int64(0)
					if s == st.State {
						v = 1
					}
					kv := []attribute.KeyValue{attribute.String(attrServerAddress, host),
						attribute.String(AttrBreakerState, s.String())}
					if port != 0 {
						kv = append(kv, attribute.Int(attrServerPort, port))
					}
					o.ObserveInt64(g, v, metric.WithAttributes(kv...))
				}
			}
		}
		return nil
	}, g)
	if err != nil {
		in.err = joinErrs([]error{in.err, err})
		return
	}
	in.gauge = reg
}
