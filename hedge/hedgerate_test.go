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

// The hedge-rate rule as a step table: requests started and hedges asked
// for at given buckets, each hedge with the outcome wanted.
func TestHedgeRate(t *testing.T) {
	type op struct {
		starts        int   // requests started at bucket now
		start, now    int64 // a hedge of a request started at start, asked at now
		hedges, grant int   // hedges asked, of which granted
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"no traffic: the floor", []op{{start: 0, now: 0, hedges: 3, grant: rateFloor}}},
		{"ratio × starts + floor over the span", []op{
			{starts: 100, start: 0, now: 0},
			{start: 0, now: 3, hedges: 20, grant: 11}, // 0.1 × 100 + 1
		}},
		{"a hedge counts in its request's bucket", []op{
			{starts: 100, start: 0, now: 0},
			{start: 0, now: 3, hedges: 11, grant: 11},
			{starts: 100, start: 4, now: 4},
			// The spans holding bucket 0 are full. Bucket 4's: 1-4
			// holds 100 starts and no hedge, but 0-4 holds 200 starts
			// and 11 hedges, so 10 more.
			{start: 0, now: 4, hedges: 1, grant: 0},
			{start: 4, now: 4, hedges: 13, grant: 10},
		}},
		{"no span shorter than half a second is judged", []op{
			{starts: 4, start: 0, now: 0},
			{starts: 100, start: 3, now: 3},
			// Bucket 0 alone would allow 1.4; the spans 0-3 allow 11.4.
			{start: 0, now: 3, hedges: 13, grant: 11},
		}},
		{"a request older than a second counts in the oldest bucket", []op{
			{starts: 10, start: 2, now: 2},
			{start: 0, now: 9, hedges: 5, grant: 2}, // bucket 2: 0.1 × 10 + 1
		}},
		{"a bucket a second old is forgotten", []op{
			{starts: 0, start: 0, now: 0, hedges: 2, grant: 1},
			{start: 8, now: 8, hedges: 2, grant: 1},
		}},
		{"a clock stepped back counts nothing in a newer bucket", []op{
			{start: 9, now: 9, hedges: 1, grant: 1},
			{start: 1, now: 1, hedges: 1, grant: 1}, // bucket 9's slot: not counted there
			{start: 9, now: 9, hedges: 1, grant: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r hedgeRate
			for i, o := range tt.ops {
				for range o.starts {
					r.started(o.now)
				}
				granted := 0
				for range o.hedges {
					if r.admit(o.start, o.now, 0.1) {
						granted++
					}
				}
				assert.Equal(t, o.grant, granted, "op %d", i)
			}
		})
	}
}

// Counts saturate rather than wrap into the next field.
func TestHedgeRateSaturates(t *testing.T) {
	var r hedgeRate
	for range rateMax + 10 {
		r.started(3)
	}
	w := r.buckets[3].Load()
	assert.Equal(t, uint64(3), w>>32)
	assert.Equal(t, uint64(rateMax), w>>16&rateMax)
	assert.Zero(t, w&rateMax)
}

// A step up in latency does not become a storm, even with the budget out
// of the way: once the host's delay is learnt (10 ms), every request turns
// slow (500 ms), and the delay hedges admitted stay within twice
// 1 − Quantile of the requests plus the floor; the rest are put off, asked
// for again at twice the time elapsed, and one that is still slow long
// after the step (a stall, 5 s) is hedged in the end.
func TestAdaptiveHedgeRateHoldsAStepUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		slow := false
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			s := slow
			mu.Unlock()
			switch {
			case !s:
				return after(req, 10*time.Millisecond, 200, nil)
			case IsHedge(req.Context()):
				return after(req, time.Millisecond, 200, nil)
			case req.Header.Get("Stall") != "":
				return after(req, 5*time.Second, 200, nil)
			}
			return after(req, 500*time.Millisecond, 200, nil)
		}}
		unlimited := budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e9, MaxTokens: budget.MaxTokensLimit})
		h := New(Config{Budget: unlimited})
		rt := h.Wrap(stub)
		sendN(t, rt, 400) // 4 s at 10 ms each: the delay is learnt
		require.Zero(t, h.Stats().Deferred)
		before := h.Stats()

		mu.Lock()
		slow = true
		mu.Unlock()
		var wg sync.WaitGroup
		var stalled time.Duration
		for i := range 200 { // 200 requests over 400 ms
			req := newGet(t)
			if i == 0 {
				req.Header.Set("Stall", "1")
			}
			wg.Go(func() {
				start := time.Now()
				resp, err := rt.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				if i == 0 {
					stalled = time.Since(start)
				}
			})
			time.Sleep(2 * time.Millisecond)
		}
		wg.Wait()
		st := h.Stats()
		hedges := st.Hedges - before.Hedges
		// 0.1 × 200 requests + a floor per span: far below the 200 hedges
		// a delay of 12 ms would send against 500 ms answers.
		assert.LessOrEqual(t, hedges, uint64(30), "hedges after the step")
		assert.Positive(t, st.Deferred, "hedges put off")
		assert.Less(t, stalled, 5*time.Second, "the stall was hedged in the end")
	})
}

// calm is admit's rule for a request started now, and counts nothing.
func TestHedgeRateCalm(t *testing.T) {
	var r hedgeRate
	for range 100 {
		r.started(0)
	}
	for range 10 {
		require.True(t, r.calm(3, 0.1))
		require.True(t, r.admit(0, 3, 0.1))
	}
	assert.True(t, r.calm(3, 0.1), "0.1 × 100 + 1: room for one more")
	assert.True(t, r.calm(3, 0.1), "calm counted nothing")
	require.True(t, r.admit(0, 3, 0.1))
	assert.False(t, r.calm(3, 0.1), "at the limit")
	r.count(0, 3) // counted past the limit (a hedge sent elsewhere)
	assert.Equal(t, uint64(12), r.buckets[0].Load()&rateMax)
}
