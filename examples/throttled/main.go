// Command throttled shows tailguard's retry stage honouring Retry-After:
// an embedded upstream answers 429 Too Many Requests with a wait in each of
// the header's two forms (delay-seconds and HTTP-date), and one absurd wait
// that is not honoured.
//
//	go run ./examples/throttled
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/tailguard/tailguard/examples/internal/upstream"
	"github.com/tailguard/tailguard/retry"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "throttled:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("throttled", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}

	srv := upstream.NewThrottled()
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()

	var asked time.Duration
	r := retry.New(retry.Config{
		// The default cap, spelled out: a server asking for more than this
		// gets its 429 handed back to the caller instead of a stuck client.
		MaxRetryAfter: retry.DefaultMaxRetryAfter,
		OnRetry:       func(i retry.RetryInfo) { asked = i.Delay },
	})
	client := &http.Client{Transport: r.Wrap(tr)}

	fmt.Fprintln(stdout, "The upstream answers the first request on each path with 429 Too Many Requests.")
	for _, path := range []string{"/orders/seconds", "/orders/date", "/orders/hour"} {
		asked = 0
		start := time.Now()
		resp, err := client.Get(srv.URL() + path)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)

		a := srv.Arrivals(path)
		fmt.Fprintf(stdout, "\nGET %s\n  attempt 1: 429, Retry-After: %s\n", path, a[0].RetryAfter)
		if len(a) > 1 {
			fmt.Fprintf(stdout, "  waited %.2fs (the header asked for %.2fs), as requested: no jitter, no shortening\n",
				a[1].At.Sub(a[0].At).Seconds(), asked.Seconds())
			fmt.Fprintf(stdout, "  attempt 2: %d → caller gets %s after %.2fs\n", a[1].Status, resp.Status, took.Seconds())
		} else {
			fmt.Fprintf(stdout, "  not waited: %s is above MaxRetryAfter (%v), so the caller gets the %s at once (%.3fs)\n",
				a[0].RetryAfter+"s", retry.DefaultMaxRetryAfter, resp.Status, took.Seconds())
		}
	}
	st := r.Stats()
	fmt.Fprintf(stdout, "\nretry stats: %d requests, %d retries, %d stopped because the wait was too long\n",
		st.Requests, st.Retries, st.ThrottleStops)
	return nil
}
