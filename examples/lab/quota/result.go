package quota

import (
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

// Stragglers is how long after a 429 that announced a pause further 429s
// still count as the same burst: requests already on the wire when the
// first 429 was answered, which no client could have held back.
const Stragglers = 100 * time.Millisecond

// Warmup returns how long a client may take to learn the quota before the
// lab's "after warm-up" columns start counting: 5 s when 429s are bare
// (the client must find the rate by probing), else 2 s. These are the
// throttle issue's targets.
func Warmup(d Dialect) time.Duration {
	if d == Bare {
		return 5 * time.Second
	}
	return 2 * time.Second
}

// Result is what one arm achieved against its quota.
type Result struct {
	Name    string
	Dialect Dialect
	Quota   float64 // the quota, requests per second
	Load    Load

	Offered   int // requests the callers made
	Succeeded int // of which ended in 200
	Failed    int // of which did not (a 429 handed back, an error, a timeout)
	// Goodput is the rate of requests that succeeded within the run's
	// Duration, as a fraction of the quota.
	Goodput float64
	// P50 and P99 are the latencies of successful requests, from their
	// intended send time.
	P50, P99 time.Duration

	Sent      int // requests the server received: every attempt
	Throttled int // of which it answered 429
	// SentAfterWarmup and ThrottledAfterWarmup count only arrivals after
	// Warmup(Dialect).
	SentAfterWarmup, ThrottledAfterWarmup int
	// MaxReleased is the most requests the server received in the second
	// after a gate opened — after the pause a 429 announced, or, for a
	// dialect that announces none, after the wait the server knew — per
	// second. 0 when there was no 429.
	MaxReleased float64
	// InPause counts 429s received inside the pause an earlier 429
	// announced, more than Stragglers after that pause began: a client
	// that honoured the pause for all its requests receives none.
	InPause int

	// Per-second timelines from the start of the run.
	SentPerSec, ThrottledPerSec, SucceededPerSec []float64
}

// Per1000 is 429s received per 1,000 requests sent.
func (r Result) Per1000() float64 { return per1000(r.Throttled, r.Sent) }

// Per1000AfterWarmup is Per1000 over arrivals after Warmup(Dialect).
func (r Result) Per1000AfterWarmup() float64 {
	return per1000(r.ThrottledAfterWarmup, r.SentAfterWarmup)
}

// SentPerSuccess is requests the server received per successful request.
func (r Result) SentPerSuccess() float64 { return ratio(r.Sent, r.Succeeded) }

// SentPerOffered is requests the server received per request the callers
// made: 1 for a client that neither retries nor holds back.
func (r Result) SentPerOffered() float64 { return ratio(r.Sent, r.Offered) }

func per1000(n, of int) float64 { return 1000 * ratio(n, of) }

func ratio(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func analyze(name string, srv *Server, load Load, sched []time.Duration, run lab.Run, arrivals []Arrival, start time.Time) Result {
	r := Result{Name: name, Dialect: srv.Dialect(), Quota: srv.Limit().PerSecond(), Load: load,
		Offered: len(sched), Failed: run.Errors, Sent: len(arrivals)}

	var ok []time.Duration
	inRun := 0
	var ends []time.Duration // completion offsets of successes
	for i, lat := range run.Latencies {
		if run.Failed[i] {
			continue
		}
		ok = append(ok, lat)
		end := sched[i] + lat
		ends = append(ends, end)
		if end < load.Duration {
			inRun++
		}
	}
	r.Succeeded = len(ok)
	sum := lab.Summarize(ok)
	r.P50, r.P99 = sum.P50, sum.P99
	r.Goodput = float64(inRun) / load.Duration.Seconds() / r.Quota

	warm := Warmup(r.Dialect)
	at := make([]time.Duration, len(arrivals))
	var rejected []time.Duration
	for i, a := range arrivals {
		at[i] = a.At.Sub(start)
		if at[i] >= warm {
			r.SentAfterWarmup++
		}
		if a.Status == http.StatusTooManyRequests {
			r.Throttled++
			if at[i] >= warm {
				r.ThrottledAfterWarmup++
			}
			rejected = append(rejected, at[i])
		}
	}
	slices.Sort(at)
	r.MaxReleased = maxReleased(arrivals, start, at)
	r.InPause = inPause(arrivals)

	r.SentPerSec = perSecond(at)
	r.ThrottledPerSec = perSecond(rejected)
	r.SucceededPerSec = perSecond(ends)
	return r
}

// maxReleased returns the most arrivals (offsets at, sorted) in the second
// after any gate a 429 closed opened again.
func maxReleased(arrivals []Arrival, start time.Time, at []time.Duration) float64 {
	best := 0
	for _, a := range arrivals {
		if a.Status != http.StatusTooManyRequests {
			continue
		}
		gate := a.Pause
		if gate == 0 {
			gate = a.Wait
		}
		open := a.At.Add(gate).Sub(start)
		n := sort.Search(len(at), func(i int) bool { return at[i] >= open+time.Second }) -
			sort.Search(len(at), func(i int) bool { return at[i] >= open })
		best = max(best, n)
	}
	return float64(best)
}

// inPause counts 429s that arrived inside an announced pause: each pause
// runs from the first 429 after the previous one ended, for that 429's
// Retry-After; 429s in its first Stragglers are the same burst.
func inPause(arrivals []Arrival) int {
	var rejected []Arrival
	for _, a := range arrivals {
		if a.Status == http.StatusTooManyRequests && a.Pause > 0 {
			rejected = append(rejected, a)
		}
	}
	slices.SortFunc(rejected, func(a, b Arrival) int { return a.At.Compare(b.At) })
	n := 0
	var begin, end time.Time
	for _, a := range rejected {
		switch {
		case !a.At.Before(end):
			begin, end = a.At, a.At.Add(a.Pause)
		case a.At.Sub(begin) > Stragglers:
			n++
		}
	}
	return n
}

// perSecond counts offsets per whole second since the start.
func perSecond(offs []time.Duration) []float64 {
	var out []float64
	for _, o := range offs {
		if o < 0 {
			continue
		}
		s := int(o / time.Second)
		for len(out) <= s {
			out = append(out, 0)
		}
		out[s]++
	}
	return out
}
