package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// quickstartAnswer is examples/quickstart's upstream
// (examples/internal/upstream.Flaky with the quickstart's settings): each
// attempt, in arrival order, draws from one source seeded as the
// quickstart seeds it whether it fails (15%: a 503 at once) and whether it
// stalls (4% of the others: 500 ms); the rest take 5 ms. Requests are sent
// one after another, so on the fake clock the arrival order, and with it
// every fate, is the quickstart's.
func quickstartAnswer(seed uint64) func(simCall) simAnswer {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, 1))
	return func(simCall) simAnswer {
		mu.Lock()
		fail := r.Float64() < 0.15
		slow := r.Float64() < 0.04
		mu.Unlock()
		switch {
		case fail:
			return simAnswer{Status: http.StatusServiceUnavailable}
		case slow:
			return simAnswer{Latency: 500 * time.Millisecond}
		}
		return simAnswer{Latency: 5 * time.Millisecond}
	}
}

// quickstartRun is what one client saw.
type quickstartRun struct {
	p50, p90, p99, max time.Duration
	extra              float64 // extra attempts per request
	failed             int
}

func (q quickstartRun) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("| %v | %v | %v | %v | %.0f%% | %d |", r(q.p50), r(q.p90), r(q.p99), r(q.max), 100*q.extra, q.failed)
}

// runQuickstart sends n GETs one after another, as examples/quickstart
// does, through wrap over the fake upstream.
func runQuickstart(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper, n int, seed uint64) quickstartRun {
	var out quickstartRun
	synctest.Test(t, func(t *testing.T) {
		up := newFakeUpstream(n, quickstartAnswer(seed))
		rt := wrap(up)
		lat := make([]time.Duration, n)
		for i := range n {
			// A request-scoped context, canceled once the request is done,
			// as a server handler's is: failsafe-go's merged contexts keep
			// a goroutine until it ends.
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), simKey{}, i))
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://upstream.test/", nil)
			start := time.Now()
			resp, err := rt.RoundTrip(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			lat[i] = time.Since(start)
			cancel()
			// Let the losers of this request finish at this instant, so
			// that the next one's draws do not depend on the scheduler.
			synctest.Wait()
			if err != nil || resp.StatusCode != http.StatusOK {
				out.failed++
			}
		}
		synctest.Wait()
		calls := 0
		for _, a := range up.attempts() {
			calls += len(a)
		}
		out.extra = float64(calls)/float64(n) - 1
		out.p50, out.p90, out.p99, out.max = quantile(lat, 0.5), quantile(lat, 0.9), quantile(lat, 0.99), quantile(lat, 1)
	})
	return out
}

// TestFakeClockQuickstart is the evidence that the recommended pipeline,
// hedge(retry(breaker)) with zero Configs, learns the latency of a single
// try on examples/quickstart's upstream (15% 503, 4% 500 ms stalls, 5 ms
// otherwise), on the fake clock: its p90 must stay within 3× the plain
// client's and its p99 at most a tenth of it, at ≤ 35% extra attempts, for
// seeds 1–3. failsafe-go's equivalent pipeline (quantile hedge, its HTTP
// retry policy, a breaker) is shown beside it.
//
//	go test -run TestFakeClockQuickstart -v .
func TestFakeClockQuickstart(t *testing.T) {
	const n = 100 // as examples/quickstart sends
	arms := []struct {
		name string
		wrap func(http.RoundTripper) http.RoundTripper
	}{
		{"http.Client", func(b http.RoundTripper) http.RoundTripper { return b }},
		{"tailguard pipeline.New(hedge, retry, breaker)", func(b http.RoundTripper) http.RoundTripper {
			return pipeline.NewWithBase(b, hedge.New(hedge.Config{}), retry.New(retry.Config{}), breaker.New(breaker.Config{}))
		}},
		{"failsafe-go quantile hedge, retry, breaker", func(b http.RoundTripper) http.RoundTripper {
			// Its breaker opens on 1 failure by default; give it
			// tailguard's 5 consecutive failures and 5 s open.
			br := circuitbreaker.NewBuilder[*http.Response]().
				HandleIf(func(r *http.Response, err error) bool { return err != nil || r.StatusCode >= 500 }).
				WithFailureThreshold(5).WithDelay(5 * time.Second).Build()
			return failsafehttp.NewRoundTripper(b,
				hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, 1000, hedge.MinSamples), failsafeRetry(), br)
		}},
	}
	var rows []string
	for seed := uint64(1); seed <= 3; seed++ {
		var plain quickstartRun
		for i, arm := range arms {
			r := runQuickstart(t, arm.wrap, n, seed)
			rows = append(rows, fmt.Sprintf("| %d | %s %s", seed, arm.name, r))
			switch i {
			case 0:
				plain = r
			case 1:
				if r.p90 > 3*plain.p90 {
					t.Errorf("seed %d: pipeline p90 %v, more than 3× the plain client's %v", seed, r.p90, plain.p90)
				}
				if r.p99 > plain.p99/10 {
					t.Errorf("seed %d: pipeline p99 %v, more than a tenth of the plain client's %v", seed, r.p99, plain.p99)
				}
				if r.extra > 0.35 {
					t.Errorf("seed %d: pipeline sent %.0f%% extra attempts, want ≤ 35%%", seed, 100*r.extra)
				}
			}
		}
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stdout, "\nexamples/quickstart's upstream, %d GETs one after another, fake clock:\n\n", n)
		fmt.Fprintln(os.Stdout, "| seed | client | p50 | p90 | p99 | max | extra attempts | failed |\n|---|---|---|---|---|---|---|---|")
		for _, row := range rows {
			fmt.Fprintln(os.Stdout, row)
		}
	}
}
