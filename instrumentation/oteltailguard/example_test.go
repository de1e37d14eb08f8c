package oteltailguard_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/instrumentation/oteltailguard"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// One call instruments a pipeline; here a retry stage over an upstream
// that fails once, read back with a ManualReader.
func ExampleInstrumentation_Pipeline() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	calls := 0
	upstream := pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		calls++
		status := http.StatusOK
		if calls == 1 {
			status = http.StatusServiceUnavailable
		}
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})
	inst := oteltailguard.New(oteltailguard.Config{MeterProvider: mp})
	client := inst.Pipeline(upstream, retry.New(retry.Config{BaseDelay: 1})).Client()
	resp, err := client.Get("http://api.example/items/7")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, p := range sum.DataPoints {
				line := m.Name
				for _, k := range []string{oteltailguard.AttrAttemptKind, oteltailguard.AttrOutcome, oteltailguard.AttrReason} {
					if v, ok := p.Attributes.Value(attribute.Key(k)); ok {
						line += " " + k + "=" + v.AsString()
					}
				}
				lines = append(lines, fmt.Sprintf("%s: %d", line, p.Value))
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// tailguard.attempts tailguard.attempt.kind=original tailguard.outcome=transient: 1
	// tailguard.attempts tailguard.attempt.kind=retry tailguard.outcome=success: 1
	// tailguard.retries tailguard.reason=backoff: 1
}

// A pipeline assembled by hand: the Instrumentation outermost, Base under
// the stages, and the breaker watched, so that its state is on the
// tailguard.breaker.state gauge as Pipeline would have put it.
func ExampleInstrumentation_WatchBreaker() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	inst := oteltailguard.New(oteltailguard.Config{MeterProvider: mp})

	failing := pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, FailureRatio: -1})
	inst.WatchBreaker(b)
	client := pipeline.NewWithBase(inst.Base(failing), inst, b)
	req, _ := http.NewRequest(http.MethodGet, "http://api.example/items/7", nil)
	if resp, err := client.RoundTrip(req); err == nil {
		resp.Body.Close() // the 500 that opens the breaker
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == oteltailguard.MetricBreakerState {
			var lines []string
			for _, p := range g.DataPoints {
				host, _ := p.Attributes.Value("server.address")
				state, _ := p.Attributes.Value(oteltailguard.AttrBreakerState)
				lines = append(lines, fmt.Sprintf("%s %s=%s: %d", host.AsString(), oteltailguard.AttrBreakerState, state.AsString(), p.Value))
			}
			sort.Strings(lines)
			for _, l := range lines {
				fmt.Println(l)
			}
		}
	}
	// Output:
	// api.example tailguard.breaker.state=closed: 0
	// api.example tailguard.breaker.state=half-open: 0
	// api.example tailguard.breaker.state=open: 1
}
