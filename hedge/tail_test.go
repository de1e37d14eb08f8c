package hedge

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// tailRequests is the number of requests per simulated run.
const tailRequests = 20_000

type reqIndexKey struct{}

// tailLatency returns the latency of attempt n of request i: 1 s with
// probability 1%, else fast(r); independent per attempt, and deterministic
// whatever order the attempts run in.
func tailLatency(i, n int, fast func(*rand.Rand) time.Duration) time.Duration {
	r := rand.New(rand.NewPCG(uint64(i), uint64(n)))
	if r.Float64() < 0.01 {
		return time.Second
	}
	return fast(r)
}

// tailDists are TestTail's fast modes, each with the bounds it asserts:
// what the adaptive and the fixed hedge measure today (fake clock, so
// exact), plus a small margin (half a millisecond, or a tenth of a point
// and a little more of extra attempts), so that a change that makes the
// tail worse fails.
var tailDists = []struct {
	name string
	fast func(*rand.Rand) time.Duration

	adaptiveP999  time.Duration // measured 20.5 ms and 23.6 ms
	adaptiveExtra float64       // measured 1.16% and 3.14%
	fixedP999     time.Duration // measured 30.0 ms and 31.6 ms
}{
	// The model: 10 ms exactly.
	{"10ms", func(*rand.Rand) time.Duration { return 10 * time.Millisecond },
		21 * time.Millisecond, 0.013, 30500 * time.Microsecond},
	// FIELD-NOTES' model: N(10 ms, 1 ms), for which the ideal p95 hedge
	// gives p99.9 ≈ 23.1 ms at 5% extra requests.
	{"N(10ms,1ms)", func(r *rand.Rand) time.Duration {
		return time.Duration(max(1e6, 10e6+1e6*r.NormFloat64()))
	}, 24100 * time.Microsecond, 0.033, 32100 * time.Microsecond},
}

type tailResult struct {
	p50, p99, p999 time.Duration
	extra          float64 // extra attempts per request
}

func (r tailResult) String() string {
	return fmt.Sprintf("p50 %6.1f ms  p99 %7.1f ms  p99.9 %7.1f ms  extra %5.2f%%",
		ms(r.p50), ms(r.p99), ms(r.p999), 100*r.extra)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// simulate sends tailRequests requests through wrap(stub), one new request
// every millisecond, each in its own goroutine (open-loop arrivals, as real
// traffic), and measures each request's time to response headers.
func simulate(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper, fast func(*rand.Rand) time.Duration) tailResult {
	stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		i := req.Context().Value(reqIndexKey{}).(int)
		return after(req, tailLatency(i, max(CopyFrom(req.Context()), 1), fast), 200, nil)
	}}
	rt := wrap(stub)
	lat := make([]time.Duration, tailRequests)
	errs := make([]error, tailRequests)
	var wg sync.WaitGroup
	for i := range tailRequests {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(context.WithValue(context.Background(), reqIndexKey{}, i),
				http.MethodGet, "http://upstream.test/", nil)
			start := time.Now()
			resp, err := rt.RoundTrip(req)
			lat[i] = time.Since(start)
			if errs[i] = err; err == nil {
				resp.Body.Close()
			}
		})
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[int(math.Ceil(q*tailRequests))-1] }
	return tailResult{p50: pct(0.5), p99: pct(0.99), p999: pct(0.999),
		extra: float64(stub.Calls()-tailRequests) / tailRequests}
}

// TestTail is the evidence that hedging cures the tail cheaply: with 1% of
// attempts taking 1 s, adaptive p95 hedging brings p99.9 from 1 s to
// 20.5 ms (10 ms fast mode) and 23.6 ms (N(10 ms, 1 ms), the ideal's
// 23.1 ms) for 1.16% and 3.14% extra attempts; the test holds it there,
// within the margins in tailDists.
func TestTail(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 120,000 requests")
	}
	for _, dist := range tailDists {
		t.Run(dist.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				none := simulate(t, func(rt http.RoundTripper) http.RoundTripper { return rt }, dist.fast)
				fixed := New(Config{Delay: 20 * time.Millisecond})
				fixedRes := simulate(t, fixed.Wrap, dist.fast)
				adaptive := New(Config{})
				adaptiveRes := simulate(t, adaptive.Wrap, dist.fast)

				t.Logf("%s, %d requests, 1%% of attempts at 1 s:", dist.name, tailRequests)
				t.Logf("  no hedging            %v", none)
				t.Logf("  fixed 20 ms           %v", fixedRes)
				t.Logf("  adaptive p95 (zero)   %v", adaptiveRes)
				t.Logf("  adaptive stats %+v", adaptive.Stats())

				assert.Equal(t, time.Second, none.p999, "unhedged p99.9 is the slow mode")
				assert.Zero(t, none.extra)
				assert.LessOrEqual(t, adaptiveRes.p999, dist.adaptiveP999)
				assert.LessOrEqual(t, adaptiveRes.extra, dist.adaptiveExtra)
				assert.LessOrEqual(t, fixedRes.p999, dist.fixedP999)
				st := adaptive.Stats()
				assert.Equal(t, uint64(tailRequests), st.Requests)
				assert.Equal(t, st.Requests, st.OriginalWins+st.HedgeWins)
				assert.InDelta(t, float64(st.Hedges)/tailRequests, adaptiveRes.extra, 1e-9, "Stats.Hedges counts every extra attempt")
			})
		})
	}
}
