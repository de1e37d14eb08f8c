package throttle

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/internal/testkit"
)

// gcraShared is a Shared store for synctest bubbles that keeps the quota
// the way redisstate's quota.lua does: one theoretical arrival time per
// key, which each call advances by the emission interval of the Quota it
// passes. A caller passing a lower rate thus takes more of the fleet's
// schedule per request, as it would in Redis. It records every Quota.
type gcraShared struct {
	mu     sync.Mutex // guards the fields below
	tat    map[string]time.Time
	gates  map[string]time.Time
	quotas []Quota
}

func (g *gcraShared) Reserve(_ context.Context, key string, q Quota, maxWait time.Duration) (Reservation, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.quotas = append(g.quotas, q)
	now := time.Now()
	if until := g.gates[key]; now.Before(until) {
		return Reservation{Paused: until.Sub(now), Processes: 2}, nil
	}
	if q.Rate == rate.Inf {
		return Reservation{OK: true, Processes: 2}, nil
	}
	if g.tat == nil {
		g.tat = map[string]time.Time{}
	}
	iv := time.Duration(math.Ceil(float64(time.Second) / float64(q.Rate)))
	tat := g.tat[key]
	if tat.Before(now) {
		tat = now
	}
	slack := now.Add(time.Duration(max(q.Burst, 1)) * iv).Sub(tat)
	wait := time.Duration(0)
	if slack < iv {
		if wait = iv - slack; wait > maxWait {
			return Reservation{Delay: wait, Processes: 2}, nil
		}
	}
	g.tat[key] = tat.Add(iv)
	return Reservation{OK: true, Delay: wait, Processes: 2}, nil
}

func (g *gcraShared) Pause(_ context.Context, key string, d time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates == nil {
		g.gates = map[string]time.Time{}
	}
	if until := time.Now().Add(d); until.After(g.gates[key]) {
		g.gates[key] = until
	}
	return nil
}

// TestSharedScheduleAtFleetQuota is the audit's run on the fake clock: two
// processes offering 8 requests/s each, both configured with the key's
// quota (Rate 20), against an upstream with a fixed 20/s window that sends
// no rate headers; at t = 3 s one request of process A is answered 429
// with Retry-After: 2. A's pacing cuts its own rate (AIMD). Shared, that
// cut must stay A's: the fleet's schedule runs at the quota, so after the
// pause the fleet sends what it sends with local-only throttles (each at
// most its own rate), instead of A's cut rate dragging B down with it.
func TestSharedScheduleAtFleetQuota(t *testing.T) {
	type result struct {
		ok, refused int // 200s and throttle refusals from 5 s to 14 s
		perSecond   [17]int
		quotas      []Quota
	}
	run := func(shared bool) result {
		var res result
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			var (
				mu       sync.Mutex
				window   int64
				inWindow int
				pushed   bool
			)
			up := &upstream{}
			up.answer = func(_ int, req *http.Request) *http.Response {
				mu.Lock()
				defer mu.Unlock()
				at := time.Since(start)
				if !pushed && at >= 3*time.Second && req.Header.Get("X-Proc") == "A" {
					pushed = true
					return reply(req, &up.tr, 429, "Retry-After", "2")
				}
				if w := int64(at / time.Second); w != window {
					window, inWindow = w, 0
				}
				if inWindow++; inWindow > 20 {
					return reply(req, &up.tr, 429)
				}
				return reply(req, &up.tr, 200)
			}
			store := &gcraShared{}
			var wg sync.WaitGroup
			var rmu sync.Mutex
			for _, proc := range []string{"A", "B"} {
				cfg := Config{Rate: 20}
				if shared {
					cfg.Shared = store
				}
				rt := New(cfg).Wrap(up)
				for i := range 15 * 8 {
					at := time.Duration(i) * time.Second / 8
					wg.Go(func() {
						time.Sleep(at)
						req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
						req.Header.Set("X-Proc", proc)
						resp, err := rt.RoundTrip(req)
						after := at >= 5*time.Second && at < 14*time.Second
						rmu.Lock()
						defer rmu.Unlock()
						switch {
						case err == nil:
							resp.Body.Close()
							if resp.StatusCode == 200 {
								res.perSecond[int(time.Since(start)/time.Second)]++
							}
							if after && resp.StatusCode == 200 {
								res.ok++
							}
						case errors.Is(err, ErrThrottled) && after:
							res.refused++
						}
					})
				}
			}
			wg.Wait()
			res.quotas = store.quotas
		})
		return res
	}
	local, shared := run(false), run(true)
	t.Logf("200s per second: local-only %v, shared %v", local.perSecond, shared.perSecond)
	t.Logf("5-14 s: local-only %d OK (%.1f/s), %d refused; shared %d OK (%.1f/s), %d refused",
		local.ok, float64(local.ok)/9, local.refused, shared.ok, float64(shared.ok)/9, shared.refused)
	for _, q := range shared.quotas {
		if q.Rate != 20 {
			assert.Equal(t, rate.Limit(20), q.Rate, "the fleet's schedule runs at the quota, not one process's cut")
			break
		}
	}
	// From 2 s after the pause, the fleet carries B's 8/s and what AIMD
	// leaves A (7.2/s, growing): at least 14 a second. Before, A's cut
	// rate ran the fleet's schedule: 10-12 a second.
	for s := 7; s < 14; s++ {
		assert.GreaterOrEqual(t, shared.perSecond[s], 14, "shared, second %d after the start: 200s", s)
	}
	// Shared, the whole fleet paused (B too, unlike local-only), so it
	// starts with a larger backlog; its goodput and refusals stay close to
	// local-only's (before: 86 OK and 58 refused, against 137 and 7).
	assert.GreaterOrEqual(t, float64(shared.ok), 0.9*float64(local.ok), "shared, 5-14 s: 200s")
	assert.LessOrEqual(t, shared.refused, 3*local.refused, "shared, 5-14 s: refusals")
}

// TestSharedPauseRecorded: a pause learned from the fleet's gate is a
// pause in the process that learns it: recorded as paused, reason fleet,
// with the pause left, and counted in Stats.Pauses, once however many of
// its requests meet it at once; the process that received the 429 records
// it once too (reason pushback), even when its own gate opens a moment
// before the fleet's and it meets the same pause there.
func TestSharedPauseRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = pausedOnce(u)
		store := &gcraShared{}
		logA, linesA := testkit.NewLogs(slog.LevelInfo)
		logB, linesB := testkit.NewLogs(slog.LevelInfo)
		a := New(Config{Shared: store, Logger: logA})
		b := New(Config{Shared: store, Logger: logB, MaxWait: 10 * time.Second})
		status, err := send(context.Background(), a.Wrap(u), "http://api.test/")
		require.NoError(t, err)
		require.Equal(t, 429, status)

		// The fleet's gate ends a moment after a's own (a's clock, the
		// round trip): a meets the tail of the pause it received.
		store.Pause(context.Background(), "http://api.test:80", 5*time.Second+10*time.Millisecond)
		var wg sync.WaitGroup
		wg.Go(func() {
			time.Sleep(5 * time.Second)
			_, err := send(context.Background(), a.Wrap(u), "http://api.test/")
			assert.NoError(t, err)
		})
		time.Sleep(time.Second)
		for range 8 {
			wg.Go(func() {
				_, err := send(context.Background(), b.Wrap(u), "http://api.test/")
				assert.NoError(t, err, "b waits out the fleet's pause")
			})
		}
		wg.Wait()

		assert.Equal(t, []string{"paused reason=pushback wait=5s status=429"}, linesA.Lines())
		assert.Equal(t, []string{"paused reason=fleet wait=4.01s"}, linesB.Lines())
		assert.EqualValues(t, 1, a.Stats().Pauses)
		assert.EqualValues(t, 1, b.Stats().Pauses)
	})
}
