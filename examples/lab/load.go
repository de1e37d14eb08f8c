package lab

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Schedule returns the send offsets of n requests arriving as a Poisson
// process at rate per second, from seed: the same for every arm.
func Schedule(n int, rate float64, seed uint64) []time.Duration {
	r := NewRand(seed ^ 0x5ced)
	offs := make([]time.Duration, n)
	var t float64 // seconds
	for i := range offs {
		offs[i] = time.Duration(t * float64(time.Second))
		t += r.ExpFloat64() / rate
	}
	return offs
}

// Split cuts sched into rounds consecutive parts of (nearly) equal length,
// as [Compare] runs them, each part's offsets made relative to its first:
// every round starts at its own time zero. rounds is at least 1 and at
// most len(sched); an empty sched has no parts.
func Split(sched []time.Duration, rounds int) [][]time.Duration {
	rounds = min(max(rounds, 1), len(sched))
	parts := make([][]time.Duration, 0, rounds)
	for r := range rounds {
		part := sched[r*len(sched)/rounds : (r+1)*len(sched)/rounds]
		rel := make([]time.Duration, len(part))
		for j, off := range part {
			rel[j] = off - part[0]
		}
		parts = append(parts, rel)
	}
	return parts
}

// Run is what one arm saw.
type Run struct {
	// Latencies holds each request's latency from its intended send time to
	// the end of its body, in request order until Summarize sorts it.
	Latencies []time.Duration
	// Failed marks, in request order, the requests counted in Errors.
	Failed []bool
	// Errors counts requests that failed or answered other than 200.
	Errors int
	// Wall is how long the whole run took.
	Wall time.Duration
}

// requestKey carries a request's index in Drive's schedule.
type requestKey struct{}

// RequestIndex returns the index in Drive's schedule of the request whose
// context ctx is, or derives from (as every attempt a stage clones from it
// does), and false outside Drive: a transport under the stages can tell
// which request an attempt belongs to.
func RequestIndex(ctx context.Context) (int, bool) {
	i, ok := ctx.Value(requestKey{}).(int)
	return i, ok
}

// Drive sends a GET to url at each offset of sched through rt, without
// waiting for earlier requests (open loop), and calls done (if not nil) as
// each finishes, from that request's goroutine. A request still unanswered
// after timeout counts as an error with latency timeout. Each request's
// context carries its index in sched (see [RequestIndex]).
func Drive(ctx context.Context, rt http.RoundTripper, url string, sched []time.Duration, timeout time.Duration, done func()) Run {
	client := &http.Client{Transport: rt}
	run := Run{Latencies: make([]time.Duration, len(sched))}
	failed := make([]bool, len(sched))
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i, off := range sched {
		if wait := time.Until(start.Add(off)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				wg.Wait()
				run.Latencies = run.Latencies[:i]
				return count(run, failed[:i], start)
			}
		}
		wg.Go(func() {
			intended := start.Add(off)
			failed[i] = !get(context.WithValue(ctx, requestKey{}, i), client, url, timeout)
			run.Latencies[i] = time.Since(intended)
			if done != nil {
				done()
			}
		})
	}
	wg.Wait()
	return count(run, failed, start)
}

func count(run Run, failed []bool, start time.Time) Run {
	run.Failed = failed
	for _, f := range failed {
		if f {
			run.Errors++
		}
	}
	run.Wall = time.Since(start)
	return run
}

// get sends one GET and reads the whole body, reporting success.
func get(ctx context.Context, client *http.Client, url string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

// NewTransport returns a fresh keep-alive transport sized for the lab: every
// arm gets its own, so no arm inherits another's warm connections. A
// cancelled HTTP/1.1 request closes its connection, so hedging arms open
// more connections; the pool must not cap them.
func NewTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 1024
	return tr
}
