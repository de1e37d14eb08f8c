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

// learnt returns the stage's estimate for the test host.
func learnt(t *testing.T, h *Hedger) time.Duration {
	t.Helper()
	d, ok := h.hosts.get("upstream.test", time.Now()).quantile(h.cfg.sched.quantile, time.Now())
	require.True(t, ok, "an estimate")
	return d
}

func sendN(t *testing.T, rt http.RoundTripper, n int) {
	t.Helper()
	for range n {
		resp, err := rt.RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()
	}
}

// Only an outcome that could win teaches the delay: fast 503s from 97% of
// originals (each rescued by a hedge) would otherwise pull the p95 down to
// 1 ms.
func TestFastFailuresAreNotLearnt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		i := 0
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			i++
			fail := CopyFrom(req.Context()) == 1 && i%33 != 0
			mu.Unlock()
			if fail {
				return after(req, time.Millisecond, 503, nil)
			}
			return after(req, 10*time.Millisecond, 200, nil)
		}}
		unlimited := budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e6, MaxTokens: budget.MaxTokensLimit})
		h := New(Config{Budget: unlimited})
		sendN(t, h.Wrap(stub), 40*MinSamples)
		assert.Equal(t, upperBound(bucketOf(10*time.Millisecond)), learnt(t, h))
	})
}

// The hedge stage reports its attempts' outcomes to the budget it
// deposited into, whose failure gate then stops hedges fired into a dead
// upstream: 10 requests, every attempt failing, cost 12 attempts instead of
// 20 (two requests hedged, then five failures close the gate).
func TestFailuresCloseTheBudgetGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			return after(req, time.Millisecond, 503, nil)
		}}
		b := budget.New(budget.Config{})
		h := New(Config{Delay: time.Second, Budget: b})
		sendN(t, h.Wrap(stub), 10)
		assert.Equal(t, 12, stub.Calls())
		assert.Equal(t, uint64(12), b.Stats().Failures)
		assert.Equal(t, uint64(8), h.Stats().BudgetDenied)
	})
}
