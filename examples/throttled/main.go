// Command throttled shows tailguard's recommended pipeline (hedge, retry,
// throttle, breaker) meeting a throttled upstream: a 429 with Retry-After
// pauses every request to its host, not only the one that received it (the
// host-wide gate); the retry waits at least as long as asked, in both forms
// of the header, spread a little later so that callers pushed back together
// do not return together; and an absurd wait is neither slept through nor
// sent into.
//
//	go run ./examples/throttled
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/examples/internal/upstream"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "throttled:", err)
		os.Exit(1)
	}
}

// browsers is how many other callers read the same host while one caller's
// order is throttled.
const browsers = 3

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

	var waited time.Duration // the retry stage's wait: the header's, spread a little later
	r := retry.New(retry.Config{
		// The default cap, spelled out: a server asking for more than this
		// gets its 429 handed back to the caller instead of a stuck client.
		MaxRetryAfter: retry.DefaultMaxRetryAfter,
		OnRetry:       func(i retry.RetryInfo) { waited = i.Delay },
	})
	var refusedHedges atomic.Int64
	th := throttle.New(throttle.Config{OnThrottle: func(e throttle.Event) {
		if e.Rejected && hedge.IsHedge(e.Request.Context()) {
			refusedHedges.Add(1)
		}
	}})
	// The recommended order: the throttle inside the retry stage, so that
	// every attempt passes through the host's gate, and the breaker
	// innermost, so that it sees only requests that were sent.
	h := hedge.New(hedge.Config{})
	client := pipeline.NewWithBase(tr, h, r, th, breaker.New(breaker.Config{})).Client()

	fmt.Fprintln(stdout, "throttled: one 429 with Retry-After pauses every request to its host, not only the one that got it.")
	fmt.Fprintln(stdout, "The upstream answers the first request on each /orders/ path with 429 Too Many Requests;")
	fmt.Fprintln(stdout, "/browse/ pages always answer 200. Client: pipeline.New(hedge, retry, throttle, breaker), every Config zero.")

	// 1. The host-wide gate: while one caller's order waits out its 429,
	// other callers' requests to the same host wait too, instead of
	// hitting the upstream during the pause it asked for.
	start := time.Now()
	var (
		wg         sync.WaitGroup
		browseErrs = make([]error, browsers)
	)
	order := make(chan error, 1)
	var orderTook time.Duration
	go func() {
		err := get(client, srv.URL()+"/orders/seconds")
		orderTook = time.Since(start)
		order <- err
	}()
	for closed := false; !closed; {
		// The other callers come once the 429 has closed the host's gate.
		time.Sleep(time.Millisecond)
		st := th.Snapshot()
		closed = len(st) == 1 && !st[0].PausedUntil.IsZero()
	}
	paused := srv.Arrivals("/orders/seconds")[0].At
	for i := range browsers {
		wg.Go(func() { browseErrs[i] = get(client, fmt.Sprintf("%s/browse/%d", srv.URL(), i)) })
	}
	wg.Wait()
	if err := <-order; err != nil {
		return err
	}
	if err := errors.Join(browseErrs...); err != nil {
		return err
	}
	a := srv.Arrivals("/orders/seconds")
	var offsets []string
	during := 0
	for i := range browsers {
		at := srv.Arrivals(fmt.Sprintf("/browse/%d", i))[0].At.Sub(paused)
		if at < time.Second {
			during++
		}
		offsets = append(offsets, fmt.Sprintf("%.2fs", at.Seconds()))
	}
	sort.Strings(offsets)
	// The one number that proves it, before the detail.
	fmt.Fprintf(stdout, "\n%d of %d other requests to the host reached it during the 1s pause one 429 asked for;\n", during, browsers)
	fmt.Fprintf(stdout, "the throttled request got its 200 OK after %.2fs.\n", orderTook.Seconds())
	fmt.Fprintf(stdout, "\nGET /orders/seconds, while %d other callers browse the same host\n", browsers)
	fmt.Fprintf(stdout, "  attempt 1: 429, Retry-After: %s → the host's gate closes for 1s\n", a[0].RetryAfter)
	fmt.Fprintf(stdout, "  the %d browse requests waited at the gate: %d reached the upstream during the pause;\n", browsers, during)
	fmt.Fprintf(stdout, "  they arrived %s after the 429, spread out, not all at once\n", strings.Join(offsets, ", "))
	if len(a) > 1 {
		fmt.Fprintf(stdout, "  attempt 2: %d, %.2fs after the 429 (the header asked for 1.00s; the retry stage drew %.2fs) → caller gets 200 OK after %.2fs\n",
			a[1].Status, a[1].At.Sub(a[0].At).Seconds(), waited.Seconds(), orderTook.Seconds())
	}

	// 2. The HTTP-date form: the gate closes until the instant named, and
	// the retry waits at least until then.
	waited = 0
	start = time.Now()
	if err := get(client, srv.URL()+"/orders/date"); err != nil {
		return err
	}
	a = srv.Arrivals("/orders/date")
	fmt.Fprintf(stdout, "\nGET /orders/date (the retry stage waits a Retry-After d for a draw in [d, %.1f d], retry.RetryAfterSpread: never shorter)\n",
		1+retry.RetryAfterSpread)
	fmt.Fprintf(stdout, "  attempt 1: 429, Retry-After: %s\n", a[0].RetryAfter)
	if len(a) > 1 {
		asked := time.Duration(0)
		if until, err := http.ParseTime(a[0].RetryAfter); err == nil {
			asked = until.Sub(a[0].At)
		}
		fmt.Fprintf(stdout, "  waited %.2fs: the header asked for %.2fs, the retry stage drew %.2fs (never shorter, at most %.0f%% longer)\n",
			a[1].At.Sub(a[0].At).Seconds(), asked.Seconds(), waited.Seconds(), 100*retry.RetryAfterSpread)
		fmt.Fprintf(stdout, "  attempt 2: %d → caller gets 200 OK after %.2fs\n", a[1].Status, time.Since(start).Seconds())
	}

	// 3. An absurd wait: the retry stage hands the 429 back at once, and
	// the throttle keeps the host's gate closed for MaxPause, refusing
	// later requests at once instead of sending them into the pause.
	start = time.Now()
	resp, err := client.Get(srv.URL() + "/orders/hour")
	if err != nil {
		return err
	}
	drain(resp)
	fmt.Fprintf(stdout, "\nGET /orders/hour\n  attempt 1: 429, Retry-After: 3600: above MaxRetryAfter (%v), so the caller gets the %s without a retry (%.2fs)\n",
		retry.DefaultMaxRetryAfter, resp.Status, time.Since(start).Seconds())
	if st := th.Snapshot(); len(st) == 1 {
		fmt.Fprintf(stdout, "  the host's gate is closed for %v (MaxPause caps the hour)\n",
			time.Until(st[0].PausedUntil).Round(time.Minute))
	}
	start = time.Now()
	err = get(client, srv.URL()+"/browse/after")
	var te *throttle.Error
	if !errors.As(err, &te) {
		return fmt.Errorf("GET /browse/after: want a throttle refusal, got %v", err)
	}
	fmt.Fprintf(stdout, "GET /browse/after\n  refused at once (%.3fs), not sent: gate closed, could go in %v (errors.Is ErrThrottled: %v)\n",
		time.Since(start).Seconds(), te.RetryAfter().Round(time.Minute), errors.Is(err, throttle.ErrThrottled))
	fmt.Fprintln(stdout, "  a refusal comes back at once: a caller that tries again must first wait te.RetryAfter() (or back off), or it spins")

	st, rs := th.Stats(), r.Stats()
	fmt.Fprintf(stdout, "\nthrottle stats: %d sent, %d waited, %d refused at the gate, %d pauses\n",
		st.Admitted, st.Waited, st.RejectedGate, st.Pauses)
	fmt.Fprintf(stdout, "retry stats: %d requests, %d retries, %d stopped because the wait was too long\n",
		rs.Requests, rs.Retries, rs.ThrottleStops)
	hs := h.Stats()
	fmt.Fprintf(stdout, "hedge stats: %d requests, %d hedges, %d refused by the throttle: a host that pushed back gets none\n",
		hs.Requests, hs.Hedges, refusedHedges.Load())
	return nil
}

// get sends a GET and reads and closes the body.
func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
