package oteltailguard

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// stages are the recommended pipeline's, with a hedge that stays idle.
func stages() []pipeline.Stage {
	return []pipeline.Stage{
		hedge.New(hedge.Config{Delay: time.Hour}),
		retry.New(retry.Config{}),
		throttle.New(throttle.Config{}),
		breaker.New(breaker.Config{}),
	}
}

// arms are the pipelines compared: bare, instrumented for metrics (an SDK
// MeterProvider read by a ManualReader), and instrumented with attempt
// spans too (otelhttp under the stages, a recording TracerProvider).
func arms(t testing.TB) []struct {
	name string
	rt   http.RoundTripper
} {
	mp, _ := newMeter(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return []struct {
		name string
		rt   http.RoundTripper
	}{
		{"bare", pipeline.NewWithBase(testkit.OK, stages()...)},
		{"metrics", New(Config{MeterProvider: mp}).Pipeline(testkit.OK, stages()...)},
		{"metrics+spans", New(Config{MeterProvider: mp, TracerProvider: tp}).Pipeline(testkit.OK, stages()...)},
	}
}

// BenchmarkOverhead measures an idle request through the recommended
// pipeline on an in-memory transport, bare and instrumented: "metrics"
// must stay within 2 allocs/op of "bare".
func BenchmarkOverhead(b *testing.B) {
	for _, arm := range arms(b) {
		b.Run(arm.name, func(b *testing.B) {
			testkit.BenchGet(b, arm.rt, "http://api.test/items")
		})
	}
}

// TestOverheadAllocs asserts BenchmarkOverhead's bound: at most two
// allocations per idle request for the metrics instrumentation.
func TestOverheadAllocs(t *testing.T) {
	if testkit.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not exact under the race detector")
	}
	req, _ := http.NewRequest("GET", "http://api.test/items", nil)
	count := func(rt http.RoundTripper) float64 {
		send := func() {
			resp, _ := rt.RoundTrip(req)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		send() // the attribute sets are built on first use
		return testing.AllocsPerRun(500, send)
	}
	a := arms(t)
	bare, metrics := count(a[0].rt), count(a[1].rt)
	t.Logf("allocs per idle request: bare %v, instrumented %v", bare, metrics)
	if metrics > bare+2 {
		t.Errorf("instrumented: %v allocs per request, bare %v: more than 2 extra", metrics, bare)
	}
}
