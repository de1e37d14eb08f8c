package hedge

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
)

// stepReplicas runs a Hedger in adaptive mode over replicas a, b and c
// (abc), with the budget out of the way: 400 requests round the three at
// 10 ms teach each its delay, then the replicas in slow answer their
// originals in 500 ms while the others still answer in 10 ms, and 200
// requests round the three arrive over 400 ms. It returns the stage's
// Stats since the step and the slowest request to a slow replica.
func stepReplicas(t *testing.T, cfg Config, slow ...string) (Stats, time.Duration) {
	t.Helper()
	var (
		stats   Stats
		slowest time.Duration
	)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		stepped := false
		isSlow := func(host string) bool {
			mu.Lock()
			defer mu.Unlock()
			for _, s := range slow {
				if stepped && s == host {
					return true
				}
			}
			return false
		}
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			if isSlow(req.URL.Hostname()) {
				return after(req, 500*time.Millisecond, 200, nil)
			}
			return after(req, 10*time.Millisecond, 200, nil)
		}}
		cfg.Budget = budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e9, MaxTokens: budget.MaxTokensLimit})
		cfg.Replicas = Replicas{Addrs: abc, Pick: cfg.Replicas.Pick}
		h := New(cfg)
		rt := h.Wrap(stub)
		hosts := []string{"a.test", "b.test", "c.test"}
		for i := range 400 {
			get(t, rt, "http://"+hosts[i%3]+"/x")
			synctest.Wait()
		}
		require.Zero(t, h.Stats().Deferred)
		before := h.Stats()

		mu.Lock()
		stepped = true
		mu.Unlock()
		var wg sync.WaitGroup
		for i := range 200 {
			host := hosts[i%3]
			wg.Go(func() {
				start := time.Now()
				get(t, rt, "http://"+host+"/x")
				if isSlow(host) {
					mu.Lock()
					slowest = max(slowest, time.Since(start))
					mu.Unlock()
				}
			})
			time.Sleep(2 * time.Millisecond)
		}
		wg.Wait()
		st := h.Stats()
		stats = Stats{Hedges: st.Hedges - before.Hedges, Deferred: st.Deferred - before.Deferred, HedgeWins: st.HedgeWins - before.HedgeWins}
	})
	return stats, slowest
}

// One replica stalling (a GC pause) makes all its requests overrun their
// delay, which for one host is a step up whose hedges would only add to
// its load. Here the hedges go to the other replicas, which are healthy:
// none is put off, and every request to the stalled replica is rescued at
// its delay (which climbs, from 10 ms, as the rescued requests' times
// enter the stalled replica's p95: the slowest takes 62 ms). Before the
// fix the stalled replica's hedge rate put hedges off 365 times, 7 of its
// 67 requests were rescued, and the slowest took the whole 500 ms.
func TestAdaptiveReplicaHedgeEscapesAStall(t *testing.T) {
	st, slowest := stepReplicas(t, Config{}, "a.test")
	assert.Zero(t, st.Deferred, "hedges put off")
	assert.GreaterOrEqual(t, st.HedgeWins, uint64(67), "a's 67 requests rescued")
	assert.Less(t, slowest, 100*time.Millisecond, "slowest request to the stalled replica")
}

// Replicas slowing down together (a shared dependency's step up) are one
// storm: each reaches its own limit, and hedges to the others, as slow,
// are put off as for one host: 23 hedges of 200 requests (22 before the
// fix), where an unchecked delay would hedge all 200.
func TestAdaptiveReplicasStepUpTogether(t *testing.T) {
	st, _ := stepReplicas(t, Config{}, "a.test", "b.test", "c.test")
	assert.Positive(t, st.Deferred, "hedges put off")
	assert.LessOrEqual(t, st.Hedges, uint64(30), "hedges after the step")
}

// With Replicas.Pick the hedge's replica is chosen after the check, so
// the check is the host's own: a stalled replica's hedges are put off.
func TestAdaptiveReplicaPickIsCheckedAsOneHost(t *testing.T) {
	pick := func(p PickInfo) int { return (p.Tried[0] + 1) % 3 }
	st, _ := stepReplicas(t, Config{Replicas: Replicas{Pick: pick}}, "a.test")
	assert.Positive(t, st.Deferred, "hedges put off")
}
