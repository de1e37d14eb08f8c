package redisstate_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
)

// diag logs, for a failed TestFleet, every 429 and every failed call to
// Redis of group, and each worker's throttle statistics: enough to tell a
// machine that stalled the workers from a regression.
func diag(t *testing.T, group string, start time.Time, arr []fleetlab.Arrival, reps []fleetlab.Report) {
	for _, a := range arr {
		if a.Group == group && a.Status == http.StatusTooManyRequests {
			t.Logf("%s 429 at %v worker %d", group, a.At.Sub(start).Round(time.Millisecond), a.Worker)
		}
	}
	for _, r := range reps {
		if r.Group != group {
			continue
		}
		for _, c := range r.Calls {
			if c.Failed {
				t.Logf("%s worker %d failed call at %v took %v", group, r.ID, c.At.Round(time.Millisecond), c.Took)
			}
		}
		t.Logf("%s worker %d stats %+v", group, r.ID, r.Stats)
	}
}
