// Command quickstart sends the same requests to a flaky, sometimes slow
// upstream twice: with a plain http.Client, then with tailguard's
// recommended pipeline — hedge, retry and breaker, each with its zero
// Config — and prints what each saw.
//
//	go run ./examples/quickstart
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/examples/internal/upstream"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100, "requests to send, one after another")
	seed := fs.Uint64("seed", 1, "seed of the upstream's misbehaviour")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n must be at least 1, got %d", *n)
	}

	srv := upstream.NewFlaky(upstream.FlakyConfig{
		FailRate: 0.15, SlowRate: 0.04, Fast: 5 * time.Millisecond, Slow: 500 * time.Millisecond, Seed: *seed,
	})
	defer srv.Close()
	fmt.Fprintln(stdout, "quickstart: tailguard's recommended pipeline, every Config zero, against a plain http.Client")
	fmt.Fprintf(stdout, "Upstream: 15%% of attempts answer 503, 4%% stall for 500ms, the rest take 5ms.\n")
	fmt.Fprintf(stdout, "%d GET requests, one after another, with each client.\n\n", *n)

	plainTr := http.DefaultTransport.(*http.Transport).Clone()
	defer plainTr.CloseIdleConnections()
	plain := measure(&http.Client{Transport: plainTr}, srv.URL(), *n)
	plain.attempts, _, _ = srv.Attempts()

	srv.Reset() // the same sequence of failures and stalls for the second client
	h, r, b := hedge.New(hedge.Config{}), retry.New(retry.Config{}), breaker.New(breaker.Config{})
	p := pipeline.New(h, r, b)
	defer p.CloseIdleConnections()
	guarded := measure(p.Client(), srv.URL(), *n)
	guarded.attempts, _, _ = srv.Attempts()

	// The one line that proves it first: failures and the tail, and what
	// they cost in extra attempts.
	fmt.Fprintf(stdout, "Failed requests %d → %d, p99 %s → %s, for %.0f%% extra attempts.\n\n",
		plain.failed, guarded.failed, plain.quantile(0.99), guarded.quantile(0.99),
		100*(float64(guarded.attempts)/float64(*n)-1))
	fmt.Fprintf(stdout, "%-36s %4s %7s %8s %8s %8s %8s %9s\n", "client", "ok", "failed", "p50", "p90", "p99", "max", "attempts")
	plain.print(stdout, "http.Client")
	guarded.print(stdout, "pipeline.New(hedge, retry, breaker)")

	hs, rs := h.Stats(), r.Stats()
	fmt.Fprintf(stdout, "\ntailguard sent %d retries (after a 503) and %d hedges (a 503 re-sent at once, or a stall covered; %d won);\n",
		rs.Retries, hs.Hedges, hs.HedgeWins)
	fmt.Fprintf(stdout, "the breaker stayed %s: isolated failures are the retry stage's job, not an outage.\n",
		b.StateOf(srv.URL()))
	return nil
}

type tally struct {
	ok, failed, attempts int
	lat                  []time.Duration
}

func measure(c *http.Client, url string, n int) tally {
	var t tally
	for range n {
		start := time.Now()
		resp, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		t.lat = append(t.lat, time.Since(start))
		if err == nil && resp.StatusCode == http.StatusOK {
			t.ok++
		} else {
			t.failed++
		}
	}
	slices.Sort(t.lat)
	return t
}

// quantile is t's f-quantile by nearest rank, as the labs count: p99 of
// 100 latencies is the second largest, not the largest.
func (t tally) quantile(f float64) string {
	i := int(math.Ceil(f*float64(len(t.lat)))) - 1
	return t.lat[min(max(i, 0), len(t.lat)-1)].Round(100 * time.Microsecond).String()
}

func (t tally) print(w io.Writer, name string) {
	fmt.Fprintf(w, "%-36s %4d %7d %8s %8s %8s %8s %9d\n", name, t.ok, t.failed,
		t.quantile(0.5), t.quantile(0.9), t.quantile(0.99), t.quantile(1), t.attempts)
}
