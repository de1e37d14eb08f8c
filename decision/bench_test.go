package decision_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// recommended is the recommended pipeline, every stage logging to logger,
// over an in-memory transport that answers 200 at once.
func recommended(logger *slog.Logger) http.RoundTripper {
	return pipeline.NewWithBase(testkit.OK,
		hedge.New(hedge.Config{Delay: time.Hour, Logger: logger}),
		retry.New(retry.Config{Logger: logger}),
		throttle.New(throttle.Config{Logger: logger}),
		breaker.New(breaker.Config{Logger: logger}),
	)
}

// loggers are the three cases: no logger, a logger whose level drops every
// decision of an idle request, and one that takes them.
var loggers = []struct {
	name   string
	logger *slog.Logger
}{
	{"nil", nil},
	{"dropped", slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))},
	{"debug", slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))},
}

// BenchmarkDecisionLog measures an idle request through the recommended
// pipeline: "nil" and "dropped" must report the same allocs/op (the
// decision log costs nothing unless it writes); "debug" shows what
// writing the two outcome records costs.
func BenchmarkDecisionLog(b *testing.B) {
	for _, l := range loggers {
		b.Run(l.name, func(b *testing.B) {
			testkit.BenchGet(b, recommended(l.logger), "http://api.test/")
		})
	}
}

// silentPipelineAllocs is what an idle request through the recommended
// pipeline costs on the in-memory transport, as docs/observability.md
// states it. Comparing a nil logger with a
// dropping one cannot catch a stage that builds a record before asking
// Enabled: both would pay for it. The absolute count does. A change that
// moves it on purpose updates docs/observability.md and this constant together.
const silentPipelineAllocs = 7

// TestSilentPipelineAllocs asserts what BenchmarkDecisionLog shows.
func TestSilentPipelineAllocs(t *testing.T) {
	if testkit.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not exact under the race detector")
	}
	req, _ := http.NewRequest("GET", "http://api.test/", nil)
	count := func(logger *slog.Logger) float64 {
		rt := recommended(logger)
		return testing.AllocsPerRun(500, func() {
			resp, _ := rt.RoundTrip(req)
			resp.Body.Close()
		})
	}
	silent, dropped, debug := count(nil), count(loggers[1].logger), count(loggers[2].logger)
	if silent != silentPipelineAllocs {
		t.Errorf("allocs per silent request: %v, docs/observability.md says %v: a stage builds something before it "+
			"asks decision.Enabled, or the idle path changed (then update docs/observability.md and silentPipelineAllocs)",
			silent, silentPipelineAllocs)
	}
	if silent != dropped {
		t.Errorf("allocs per request: %v with a nil logger, %v with a logger that drops Debug", silent, dropped)
	}
	if debug <= silent {
		t.Errorf("allocs per request at Debug (%v) not above silent (%v): the records were not written", debug, silent)
	}
}
