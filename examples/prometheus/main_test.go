package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScrape drives the flaky upstream through the instrumented pipeline,
// scrapes /metrics as Prometheus would, and checks the metric families
// against the stages' own Stats.
func TestScrape(t *testing.T) {
	d, err := start("127.0.0.1:0")
	require.NoError(t, err)
	defer d.close()
	const n = 150
	for range n {
		d.get()
	}

	resp, err := http.Get(d.metricsURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)

	for _, name := range []string{
		"tailguard_request_duration_seconds", "tailguard_attempt_duration_seconds", "tailguard_attempts_total",
		"tailguard_retries_total", "tailguard_hedges_total", "tailguard_breaker_state",
	} {
		assert.Contains(t, families, name)
	}
	h, r := d.hedge.Stats(), d.retry.Stats()
	require.Positive(t, r.Retries, "15%% of attempts fail: some are retried")
	assert.Equal(t, float64(n), total(families["tailguard_request_duration_seconds"]), "one logical request each")
	assert.Equal(t, float64(r.Retries), total(families["tailguard_retries_total"]))
	assert.Equal(t, float64(h.Hedges), total(families["tailguard_hedges_total"]))
	assert.Equal(t, float64(h.HedgeWins), total(families["tailguard_hedge_wins_total"]))
	attempts, _, _ := d.upstream.Attempts()
	assert.GreaterOrEqual(t, total(families["tailguard_attempts_total"]), float64(attempts),
		"every attempt that reached the upstream was counted (canceled hedges may not have reached it)")
	assert.Equal(t, float64(1), value(families["tailguard_breaker_state"], "tailguard_breaker_state", "closed"))
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "otel_scope_name" {
					continue // the module's import path
				}
				assert.NotContains(t, l.GetValue(), "/", "%s: no URL path in any label (%s)", fam.GetName(), l.GetName())
			}
		}
	}
}

// total sums a family's values: counters' values, gauges' values,
// histograms' counts.
func total(f *dto.MetricFamily) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// value returns the value of f's series whose label name is value.
func value(f *dto.MetricFamily, name, want string) float64 {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == want {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// TestRun: the command prints where to look and a summary, and stops when
// its duration is up.
func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-duration", "300ms", "-rate", "20"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	for _, want := range []string{"prometheus: every decision of hedge, retry, throttle and breaker", "/metrics", "tailguard_retries_total", "requests sent", "breaker closed"} {
		assert.True(t, strings.Contains(out.String(), want), "output lacks %q:\n%s", want, out.String())
	}
}
