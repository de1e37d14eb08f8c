package retry

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
)

// race stands in for an enclosing hedge race: it records what the stage
// reports, and re-sends (answers true) after a failed try when resends is
// set.
type race struct {
	mu      sync.Mutex
	resends bool
	got     []attempt.Report
}

func (r *race) Report(rep attempt.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rep)
}

func (r *race) ReportTry(rep attempt.Report) bool {
	r.Report(rep)
	return r.resends && rep.TryKind == idempotency.Transient
}

// Inside a hedge race the stage reports each try — when it starts, when it
// ends and how — so that the hedge learns one try's latency. When the race
// re-sends a failed try as a hedge, that hedge is the failure's retry: the
// stage returns the failure to the race instead of retrying it after its
// backoff too.
func TestTriesReportedToTheRace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		resends bool
		calls   int
		stats   Stats
	}{
		{"the race re-sends: one try, handed over", true, 1, Stats{Requests: 1, HedgeResends: 1}},
		{"the race cannot: the stage retries", false, 2, Stats{Requests: 1, Retries: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(status(503), status(200))
				rc := &race{resends: tc.resends}
				r := New(quiet(Config{}))
				t0 := time.Now()
				resp, err := r.Wrap(s).RoundTrip(newReq(t, attempt.WithFeedback(context.Background(), rc), "GET", ""))
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tc.calls, s.Calls())
				assert.Equal(t, tc.stats, r.Stats())
				want := []attempt.Report{{TryStart: t0}, {TryStart: t0, TryEnd: t0, TryKind: idempotency.Transient}}
				if !tc.resends {
					t1 := t0.Add(DefaultBaseDelay)
					want = append(want, attempt.Report{TryStart: t1}, attempt.Report{TryStart: t1, TryEnd: t1, TryKind: idempotency.Success})
				}
				assert.Equal(t, want, rc.got)
			})
		})
	}
}
