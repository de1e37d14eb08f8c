package fleetlab

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Phase is a span of a run, from its start.
type Phase struct {
	Name     string
	From, To time.Duration
}

// Measures are one group's results over one phase.
type Measures struct {
	Group, Phase string
	Seconds      float64

	Offered  int // requests the workers made
	Rejected int // refused by their throttles, unsent
	Failed   int // caller errors: neither a response nor a throttle's refusal

	Sent      int // requests the upstream received
	Throttled int // of which it answered 429 (the injected pause excluded)
	OK        int // of which it answered 200

	// Quota is the upstream's quota, requests per second.
	Quota float64
	// Paused is how much of the phase the upstream had asked the group to
	// pause (the union of the pauses its answers asked for).
	Paused time.Duration
	// Shares is each worker's part of the group's 200s, by worker ID.
	Shares []float64

	// Stalled is how long, on average over the workers, the machine did
	// not run a worker's process (see stallMeter): the turns a worker held
	// in the fleet's schedule then are lost.
	Stalled time.Duration

	// LongestCall is the longest call to the shared store; FailedCalls
	// counts the calls that failed (the throttle then used local state).
	LongestCall time.Duration
	FailedCalls int
	// LongestLatency is the longest time any request took, from its
	// intended send time to its answer or refusal.
	LongestLatency time.Duration
}

// ThrottledPercent is the upstream's 429s as a percentage of what it
// received.
func (m Measures) ThrottledPercent() float64 { return percent(m.Throttled, m.Sent) }

// Goodput is the 200s per second as a percentage of the quota.
func (m Measures) Goodput() float64 { return 100 * float64(m.OK) / m.Seconds / m.Quota }

// OpenGoodput is the 200s per second of the time the upstream had not
// asked the group to pause, as a percentage of the quota: what the group
// made of the quota it was allowed to use.
func (m Measures) OpenGoodput() float64 {
	open := m.Seconds - m.Paused.Seconds()
	if open < m.Seconds/100 {
		return 0 // the group ignored the pauses: nothing to say
	}
	return 100 * float64(m.OK) / open / m.Quota
}

// RunningGoodput is the 200s per second of the time the machine ran the
// workers (the phase less Stalled), as a percentage of the quota: what
// the group made of the quota while it could send.
func (m Measures) RunningGoodput() float64 {
	running := m.Seconds - m.Stalled.Seconds()
	if running <= 0 {
		return 0
	}
	return 100 * float64(m.OK) / running / m.Quota
}

// Overshoot is what the upstream received per second, in quotas.
func (m Measures) Overshoot() float64 { return float64(m.Sent) / m.Seconds / m.Quota }

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// Analyze measures group over phase from the upstream's arrivals and the
// group's reports. start is the workers' common Start.
func Analyze(group string, p Phase, start time.Time, quota float64, arrivals []Arrival, reports []Report) Measures {
	m := Measures{Group: group, Phase: p.Name, Seconds: (p.To - p.From).Seconds(), Quota: quota}
	in := func(d time.Duration) bool { return d >= p.From && d < p.To }
	oks := map[int]int{}
	workers := 0
	var pausedUntil time.Duration // end of the pauses counted so far
	for _, a := range arrivals {
		if a.Group != group || !in(a.At.Sub(start)) {
			continue
		}
		if at := a.At.Sub(start); a.Pause > 0 && !a.Injected {
			from, to := max(at, pausedUntil), min(at+a.Pause, p.To)
			if to > from {
				m.Paused += to - from
				pausedUntil = to
			}
		}
		m.Sent++
		switch {
		case a.Injected:
		case a.Status == http.StatusOK:
			m.OK++
			oks[a.Worker]++
		case a.Status == http.StatusTooManyRequests:
			m.Throttled++
		}
	}
	for _, r := range reports {
		if r.Group != group {
			continue
		}
		workers = max(workers, r.ID+1)
		m.Stalled += stalled(r.Stalls, p)
		for _, q := range r.Requests {
			if !in(q.At) {
				continue
			}
			m.Offered++
			m.LongestLatency = max(m.LongestLatency, q.Latency)
			switch q.Outcome {
			case Rejected:
				m.Rejected++
			case Failed:
				m.Failed++
			}
		}
		for _, c := range r.Calls {
			if !in(c.At) {
				continue
			}
			m.LongestCall = max(m.LongestCall, c.Took)
			if c.Failed {
				m.FailedCalls++
			}
		}
	}
	if workers > 0 {
		m.Stalled /= time.Duration(workers)
	}
	m.Shares = make([]float64, workers)
	for w := range m.Shares {
		m.Shares[w] = float64(oks[w]) / float64(max(m.OK, 1))
	}
	return m
}

// Propagation returns how long after the injected 429 of group reached
// the upstream the group's last request arrived before the pause ended
// (how long it took every worker to stop), and how many arrived later
// than within after it. ok is false if no pause was injected.
func Propagation(group string, arrivals []Arrival, pause, within time.Duration) (d time.Duration, late int, ok bool) {
	var at time.Time
	for _, a := range arrivals {
		if a.Group == group && a.Injected {
			at, ok = a.At, true
			break
		}
	}
	if !ok {
		return 0, 0, false
	}
	for _, a := range arrivals {
		if a.Group == group && a.At.After(at) && a.At.Before(at.Add(pause)) {
			d = max(d, a.At.Sub(at))
			if a.At.Sub(at) > within {
				late++
			}
		}
	}
	return d, late, true
}

// PerSecond returns group's arrivals per second of the run: sent, 200s
// and 429s.
func PerSecond(group string, start time.Time, seconds int, arrivals []Arrival) (sent, ok, throttled []float64) {
	sent, ok, throttled = make([]float64, seconds), make([]float64, seconds), make([]float64, seconds)
	for _, a := range arrivals {
		s := int(a.At.Sub(start) / time.Second)
		if a.Group != group || s < 0 || s >= seconds {
			continue
		}
		sent[s]++
		switch a.Status {
		case http.StatusOK:
			ok[s]++
		case http.StatusTooManyRequests:
			throttled[s]++
		}
	}
	return sent, ok, throttled
}

// WriteTable writes measures as a Markdown table.
func WriteTable(w io.Writer, ms []Measures) {
	fmt.Fprintln(w, "| group | phase | offered/s | sent/s | 429s | goodput | paused by upstream | goodput while not paused | workers stalled | goodput while running | shares | rejected | caller errors | longest store call | longest request |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
	for _, m := range ms {
		shares := make([]string, len(m.Shares))
		for i, s := range m.Shares {
			shares[i] = fmt.Sprintf("%.0f%%", 100*s)
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.2f%% | %.1f%% | %.1f s | %.1f%% | %.2f s | %.1f%% | %s | %d | %d | %v | %v |\n",
			m.Group, m.Phase, float64(m.Offered)/m.Seconds, float64(m.Sent)/m.Seconds, m.ThrottledPercent(),
			m.Goodput(), m.Paused.Seconds(), m.OpenGoodput(), m.Stalled.Seconds(), m.RunningGoodput(),
			strings.Join(shares, " "), m.Rejected, m.Failed,
			m.LongestCall.Round(10*time.Microsecond), m.LongestLatency.Round(time.Millisecond))
	}
}

// Lines returns the log lines of group's workers that contain substr.
func Lines(group string, reports []Report, substr string) []string {
	var out []string
	for _, r := range reports {
		if r.Group != group {
			continue
		}
		for _, l := range r.Logs {
			if strings.Contains(l, substr) {
				out = append(out, fmt.Sprintf("worker %d: %s", r.ID, l))
			}
		}
	}
	return slices.Clip(out)
}
