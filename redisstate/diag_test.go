package redisstate_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
)

// diag logs, for a failed fleet test, each pause the upstream asked group
// for, with the 300 ms before it: the worker IDs of the requests per 10 ms,
// by the instant each worker's transport sent them (which the upstream
// judges them at) and by the instant the upstream got to them, the
// upstream's longest lag, and each worker's failed calls to Redis; then
// each worker's failed calls and throttle statistics. Enough to tell a
// worker that fell back to local state (its failed calls, its sends
// bunched), a machine that stalled every worker, and a regression apart.
func diag(t *testing.T, group string, start time.Time, arr []fleetlab.Arrival, reps []fleetlab.Report) {
	const span, step = 300 * time.Millisecond, 10 * time.Millisecond
	histogram := func(end time.Time, at func(fleetlab.Arrival) time.Time) string {
		buckets := make([]string, span/step)
		for _, b := range arr {
			if d := end.Sub(at(b)); b.Group == group && d > 0 && d <= span {
				i := len(buckets) - 1 - int((d-1)/step)
				buckets[i] += strconv.Itoa(b.Worker)
			}
		}
		return strings.Join(buckets, " ")
	}
	var pausedUntil time.Time
	for _, a := range arr {
		if a.Group != group {
			continue
		}
		if a.Status == http.StatusTooManyRequests {
			t.Logf("%s 429 at %v worker %d", group, a.At.Sub(start).Round(time.Millisecond), a.Worker)
		}
		if a.Pause == 0 || a.At.Before(pausedUntil) {
			continue
		}
		pausedUntil = a.At.Add(a.Pause)
		var lag time.Duration
		for _, b := range arr {
			if d := a.At.Sub(b.At); b.Group == group && d >= 0 && d <= span {
				lag = max(lag, b.Lag)
			}
		}
		var failed []string
		for _, r := range reps {
			n := 0
			for _, c := range r.Calls {
				if d := a.At.Sub(start) - c.At; r.Group == group && c.Failed && d >= 0 && d <= span {
					n++
				}
			}
			if n > 0 {
				failed = append(failed, fmt.Sprintf("worker %d: %d", r.ID, n))
			}
		}
		t.Logf("%s pause %v at %v (worker %d, status %d); per 10 ms over the 300 ms before it:\n  sent    [%s]\n  handled [%s]\n  the upstream's longest lag behind a send %v; failed calls to Redis: %v",
			group, a.Pause, a.At.Sub(start).Round(time.Millisecond), a.Worker, a.Status,
			histogram(a.At, func(b fleetlab.Arrival) time.Time { return b.At }),
			histogram(a.At, func(b fleetlab.Arrival) time.Time { return b.At.Add(b.Lag) }), lag.Round(time.Millisecond), failed)
	}
	for _, r := range reps {
		if r.Group != group {
			continue
		}
		var failed []string
		for _, c := range r.Calls {
			if c.Failed {
				failed = append(failed, c.At.Round(time.Millisecond).String())
			}
		}
		t.Logf("%s worker %d: %d failed calls to Redis %v; stats %+v", group, r.ID, len(failed), failed, r.Stats)
	}
}
