package hedge

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// try is one scripted try of a fake inner stage: how long it takes and how
// it ends; then how long the stage waits before its next try.
type try struct {
	took    time.Duration
	status  int
	backoff time.Duration
}

// triesStage is a fake inner stage that sends several tries per attempt
// and reports each to the enclosing race, as the retry stage does: script
// says what the tries of attempt n (hedge.CopyFrom) do. It answers with
// the first try that is not a 503, the one the race re-sent, or the last.
func triesStage(script func(n int) []try) *testkit.Stub {
	return &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		ctx := req.Context()
		tries := script(CopyFrom(ctx))
		for i, tr := range tries {
			start := attempt.StartTry(ctx)
			if err := testkit.Sleep(ctx, tr.took); err != nil {
				attempt.EndTry(ctx, start, idempotency.Canceled)
				return nil, err
			}
			kind := idempotency.StatusKind(tr.status)
			resent := attempt.EndTry(ctx, start, kind)
			if kind != idempotency.Transient || resent || i == len(tries)-1 {
				return testkit.Respond(req, tr.status, "", nil), nil
			}
			if err := testkit.Sleep(ctx, tr.backoff); err != nil {
				return nil, err
			}
		}
		panic("empty script")
	}}
}

// In hedge(retry(...)) order the hedge learns how long one try takes to a
// good answer, not the whole retried operation: with every other request's
// first try a 503 in 1 ms, then a 50 ms backoff and a 10 ms try, it learns
// 10 ms, not 61 ms (round 1 did, and its p90 on the quickstart upstream
// was 74 ms against 5.3 ms). The budget refuses every hedge, so that each
// original tries until it succeeds.
func TestAdaptiveLearnsOneTry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		i := 0
		stub := triesStage(func(int) []try {
			mu.Lock()
			defer mu.Unlock()
			if i++; i%2 == 0 {
				return []try{{took: 10 * time.Millisecond, status: 200}}
			}
			return []try{{took: time.Millisecond, status: 503, backoff: 50 * time.Millisecond}, {took: 10 * time.Millisecond, status: 200}}
		})
		h := New(Config{Budget: budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9})})
		sendN(t, h.Wrap(stub), 4*MinSamples)
		assert.Zero(t, h.Stats().Hedges)
		assert.Equal(t, upperBound(bucketOf(10*time.Millisecond)), learnt(t, h))
	})
}

// A failed try is re-sent at once as the next hedge, as the attempt's own
// failure would be, and the inner stage is told so: it gives the attempt
// up instead of retrying it after its backoff as well. When no hedge can
// be sent (the budget refuses), the inner stage is told so too, and
// retries.
func TestFailedTryIsResentAsAHedge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget *budget.Budget
		took   time.Duration // until the answer
		calls  int           // attempts that reached the inner stage
		hedges uint64
	}{
		{"a hedge is its retry", nil, 6 * time.Millisecond, 2, 1},
		{"no budget: the inner stage retries", budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9}), 10*time.Millisecond + 6*time.Millisecond, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				calls := 0
				stub := triesStage(func(n int) []try {
					mu.Lock()
					calls++
					mu.Unlock()
					if n > 1 {
						return []try{{took: 5 * time.Millisecond, status: 200}}
					}
					return []try{{took: time.Millisecond, status: 503, backoff: 10 * time.Millisecond}, {took: 5 * time.Millisecond, status: 200}}
				})
				var fired []HedgeInfo
				h := New(Config{Delay: time.Second, Budget: tc.budget, OnHedge: func(i HedgeInfo) { mu.Lock(); fired = append(fired, i); mu.Unlock() }})
				start := time.Now()
				sendN(t, h.Wrap(stub), 1)
				assert.Equal(t, tc.took, time.Since(start))
				assert.Equal(t, tc.hedges, h.Stats().Hedges)
				if tc.hedges > 0 {
					require.Len(t, fired, 1)
					assert.Equal(t, HedgeInfo{Request: fired[0].Request, Attempt: 2, Elapsed: time.Millisecond, Reason: ReasonFailure}, fired[0])
					assert.Equal(t, uint64(1), h.Stats().HedgeWins, "the original gave up after its 503")
				}
				assert.Equal(t, tc.calls, calls)
			})
		})
	}
}

// An original canceled because a hedge won counts as at least as slow as
// its try in flight has run, but only if that is past the delay: a try sent
// just before the cancellation says nothing about the tail.
func TestCanceledTryCountsOnlyPastTheDelay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		original []try
		want     uint64 // samples recorded
	}{
		{"one slow try: canceled at the hedge's win, past the delay", []try{{took: time.Second, status: 200}}, 1},
		{"a fast 503, then a slow try canceled 5 ms in", []try{
			{took: time.Millisecond, status: 503, backoff: 5 * time.Millisecond}, {took: time.Second, status: 200}}, 0},
		{"a fast 503, canceled in the backoff", []try{
			{took: time.Millisecond, status: 503, backoff: time.Second}, {took: time.Second, status: 200}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := triesStage(func(n int) []try {
					if n > 1 {
						return []try{{took: 10 * time.Millisecond, status: 200}}
					}
					return tc.original
				})
				h := New(Config{WarmupDelay: 20 * time.Millisecond, Quantile: DefaultQuantile}) // adaptive, warm-up 20 ms
				sendN(t, h.Wrap(stub), 1)
				assert.Equal(t, tc.want, h.hosts.get("upstream.test", time.Now()).seq.Load())
				assert.Equal(t, uint64(1), h.Stats().HedgeWins)
			})
		})
	}
}

// A try (or, without an inner stage reporting tries, an attempt) during
// which an inner stage reported a pause it waited out — a breaker's
// MaxWait for its probe, a throttle's closed gate — is no sample of the
// upstream's latency: the wait is the inner stage's, and a second-long
// one taught the adaptive delay that the host takes a second. It stops
// hedging, too: a hedge would only wait beside it.
func TestInnerWaitIsNoLatencySample(t *testing.T) {
	for _, tries := range []bool{true, false} {
		t.Run(fmt.Sprint("tries reported=", tries), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					ctx := req.Context()
					var start time.Time
					if tries {
						start = attempt.StartTry(ctx)
					}
					attempt.Pause(ctx, time.Now().Add(time.Second)) // waits for a breaker's probe
					if err := testkit.Sleep(ctx, time.Second); err != nil {
						return nil, err
					}
					resp, err := after(req, 10*time.Millisecond, 200, nil)
					attempt.EndTry(ctx, start, idempotency.Success)
					return resp, err
				}}
				h := New(Config{WarmupDelay: 20 * time.Millisecond, Quantile: DefaultQuantile}) // adaptive, warm-up 20 ms
				sendN(t, h.Wrap(stub), 1)
				assert.Zero(t, h.hosts.get("upstream.test", time.Now()).seq.Load(), "no latency sample")
				assert.Zero(t, h.Stats().Hedges)
			})
		})
	}
}

// A try reported by an inner stage is learnt as of its own end, not as of
// the request's start plus its length: after a 10 s backoff, a 10 ms try
// ends 10 s later than that, and the estimator, told the earlier instant,
// would see its clock run backwards from what other requests told it (a
// generation would end, or the long memory halve, at a past instant).
// Here the try's end, 10.011 s after the host's estimator was born, is
// past genStale: the generation ends then, not at 10 ms.
func TestTryLearntAtItsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := triesStage(func(int) []try {
			return []try{{took: time.Millisecond, status: 503, backoff: 10 * time.Second}, {took: 10 * time.Millisecond, status: 200}}
		})
		h := New(Config{Budget: budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9})}) // no resend: the stage retries
		start := time.Now()
		sendN(t, h.Wrap(stub), 1)
		e := h.hosts.get("upstream.test", start)
		assert.Equal(t, uint64(1), e.seq.Load(), "one try learnt")
		assert.Equal(t, int64(10*time.Second+11*time.Millisecond), e.genStart.Load(),
			"the generation ended at the try's end")
	})
}
