// Command breaker shows tailguard's circuit breaker through an outage: an
// embedded upstream goes down and comes back, and the breaker opens, fails
// requests fast without touching the host, probes it (half-open), and
// closes again.
//
//	go run ./examples/breaker
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/examples/internal/upstream"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "breaker:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("breaker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := fs.Duration("open", 300*time.Millisecond, "how long the breaker stays open before probing (default config: 5s)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// The timeline goes to a buffer, printed after the line that sums it
	// up: what the demo shows comes first.
	fmt.Fprintln(stdout, "breaker: a host goes down and comes back; the breaker opens, fails requests fast without")
	fmt.Fprintln(stdout, "touching the host, probes it (half-open), and closes again.")
	var timeline bytes.Buffer
	stdout, out := io.Writer(&timeline), stdout

	host := upstream.NewSwitch()
	defer host.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()

	start := time.Now()
	b := breaker.New(breaker.Config{
		OpenTimeout: *open, // shortened so the demo runs in a second
		OnStateChange: func(c breaker.StateChange) {
			fmt.Fprintf(stdout, "%7s  ** breaker %s → %s\n", since(start), c.From, c.To)
		},
	})
	client := &http.Client{Transport: b.Wrap(tr)}

	key := host.URL() // the default key: scheme://host:port
	n, fastFails := 0, 0
	var slowestFail time.Duration
	send := func() {
		n++
		probe := ""
		if b.StateOf(key) == breaker.HalfOpen {
			probe = " (the half-open probe)"
		}
		before := host.Attempts()
		t0 := time.Now()
		resp, err := client.Get(host.URL() + "/orders")
		took := time.Since(t0)
		reached := "reached the host"
		if host.Attempts() == before {
			reached = "host not contacted"
		}
		switch {
		case errors.Is(err, breaker.ErrOpen):
			var oe *breaker.OpenError
			errors.As(err, &oe)
			fastFails++
			slowestFail = max(slowestFail, took)
			fmt.Fprintf(stdout, "%7s  request %2d: fast-fail in %s, %s (%s; retry in %s)\n",
				since(start), n, round(took), reached, oe.State, round(oe.RetryAfter()))
		case err != nil:
			fmt.Fprintf(stdout, "%7s  request %2d: error %v\n", since(start), n, err)
		default:
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			fmt.Fprintf(stdout, "%7s  request %2d: %s, %s%s\n", since(start), n, resp.Status, reached, probe)
		}
	}

	fmt.Fprintln(stdout, "The host is up.")
	for range 2 {
		send()
	}
	fmt.Fprintln(stdout, "The host goes down (every request answers 503).")
	host.SetDown(true)
	for range 7 {
		send()
	}
	fmt.Fprintf(stdout, "Waiting out the open period (%v); the host is still down.\n", *open)
	time.Sleep(*open + 20*time.Millisecond)
	send() // the half-open probe fails: open again
	send()
	fmt.Fprintln(stdout, "The host comes back.")
	host.SetDown(false)
	time.Sleep(*open + 20*time.Millisecond)
	send() // the probe succeeds: closed
	send()

	fmt.Fprintf(stdout, "\n%d requests, %d reached the host: the breaker spared it %d during the outage.\n",
		n, host.Attempts(), n-host.Attempts())
	fmt.Fprintf(stdout, "Final state of %s: %s\n", key, b.StateOf(key))

	fmt.Fprintf(out, "\nDuring the outage %d of %d requests failed fast (each in at most %s) and never reached the\n",
		fastFails, n, round(slowestFail))
	fmt.Fprintf(out, "host; one probe per open period tested it, and the breaker is %s again now that it is back.\n\n", b.StateOf(key))
	_, err := timeline.WriteTo(out)
	return err
}

func since(t time.Time) string { return fmt.Sprintf("%.0fms", float64(time.Since(t))/1e6) }

func round(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
