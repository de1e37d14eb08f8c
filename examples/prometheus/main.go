// Command prometheus drives a flaky upstream through tailguard's
// recommended pipeline — hedge, retry, throttle, breaker — instrumented
// with oteltailguard, and serves the metrics on /metrics through the
// OpenTelemetry Prometheus exporter.
//
//	cd examples/prometheus && go run .
//	curl -s localhost:9464/metrics | grep '^tailguard_'
//
// It is a module of its own (its go.mod), as the instrumentation is: the
// core module depends on neither OpenTelemetry nor Prometheus.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/examples/internal/upstream"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/instrumentation/oteltailguard"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prometheus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9464", "where to serve /metrics")
	rate := fs.Int("rate", 50, "requests per second sent to the upstream")
	d := fs.Duration("duration", 0, "how long to run; 0 runs until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate < 1 {
		return fmt.Errorf("-rate must be at least 1, got %d", *rate)
	}
	demo, err := start(*addr)
	if err != nil {
		return err
	}
	defer demo.close()
	fmt.Fprintln(stdout, "prometheus: every decision of hedge, retry, throttle and breaker as an OpenTelemetry metric on /metrics,")
	fmt.Fprintln(stdout, "while the pipeline drives a flaky upstream.")
	fmt.Fprintf(stdout, "Upstream: 15%% of attempts answer 503, 4%% stall for 500ms, the rest take 5ms.\n")
	fmt.Fprintf(stdout, "Metrics:  %s (curl -s %[1]s | grep '^tailguard_')\n", demo.metricsURL)
	fmt.Fprintf(stdout, "Look at tailguard_retries_total, tailguard_hedges_total, tailguard_hedge_wins_total,\n")
	fmt.Fprintf(stdout, "tailguard_request_duration_seconds against tailguard_attempt_duration_seconds, tailguard_breaker_state.\n")
	if *d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *d)
		defer cancel()
	}
	n := demo.drive(ctx, *rate)
	fmt.Fprintf(stdout, "\n%d requests sent. %s\n", n, demo.summary())
	return nil
}

// demo is the upstream, the instrumented pipeline and the metrics server.
type demo struct {
	upstream   *upstream.Flaky
	hedge      *hedge.Hedger
	retry      *retry.Retrier
	throttle   *throttle.Throttle
	breaker    *breaker.Breaker
	client     *http.Client
	meters     *sdkmetric.MeterProvider
	server     *http.Server
	metricsURL string
}

// start builds the demo and serves /metrics on addr.
func start(addr string) (*demo, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	d := &demo{
		upstream: upstream.NewFlaky(upstream.FlakyConfig{
			FailRate: 0.15, SlowRate: 0.04, Fast: 5 * time.Millisecond, Slow: 500 * time.Millisecond, Seed: 1,
		}),
		hedge:    hedge.New(hedge.Config{}),
		retry:    retry.New(retry.Config{}),
		throttle: throttle.New(throttle.Config{}),
		breaker:  breaker.New(breaker.Config{}),
		meters:   sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)),
	}
	inst := oteltailguard.New(oteltailguard.Config{MeterProvider: d.meters})
	d.client = inst.Pipeline(nil, d.hedge, d.retry, d.throttle, d.breaker).Client()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		d.upstream.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	d.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.metricsURL = "http://" + ln.Addr().String() + "/metrics"
	go func() {
		if err := d.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "prometheus: serving /metrics:", err)
		}
	}()
	return d, nil
}

// drive sends GET requests at rate per second until ctx ends, and returns
// how many it sent.
func (d *demo) drive(ctx context.Context, rate int) int {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n
		case <-tick.C:
			d.get()
			n++
		}
	}
}

// get sends one request and reads its answer.
func (d *demo) get() {
	resp, err := d.client.Get(d.upstream.URL())
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// summary reports the stages' own counters, which the metrics match.
func (d *demo) summary() string {
	h, r := d.hedge.Stats(), d.retry.Stats()
	return fmt.Sprintf("The stages counted %d retries, %d hedges (%d won), breaker %s.",
		r.Retries, h.Hedges, h.HedgeWins, d.breaker.StateOf(d.upstream.URL()))
}

// close stops everything the demo started.
func (d *demo) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.server.Shutdown(ctx)
	d.client.CloseIdleConnections()
	d.upstream.Close()
	_ = d.meters.Shutdown(ctx)
}
