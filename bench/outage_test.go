package bench

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/retry"
)

// The outage scenario: outageClients clients, each sending 10 requests per
// second (Poisson), through their own retry stage, to an upstream that
// answers every attempt 503 from outageStart for outageLength, and 200 in
// 10 ms otherwise.
const (
	outageClients = 100
	outageRate    = 10.0 // per client, per second
	outageStart   = 10 * time.Second
	outageLength  = 5 * time.Second
	outageRun     = 25 * time.Second
)

// outageResult is what the upstream saw.
type outageResult struct {
	callsPerRequest float64 // attempts of the requests started during the outage, per request
	afterRecovery   float64 // upstream calls in the second after recovery / requests offered in it
	calls, offered  []int   // per second: upstream calls, requests started
}

// runOutage drives the scenario; newClient builds client i's transport,
// retryAfter is the outage's Retry-After header ("" for none).
func runOutage(t *testing.T, newClient func(i int) func(http.RoundTripper) http.RoundTripper, retryAfter string) outageResult {
	var out outageResult
	synctest.Test(t, func(t *testing.T) {
		var load []simReq
		for c := range outageClients {
			at := poisson(int(outageRate*outageRun.Seconds())*2, outageRate, uint64(1000+c))
			for _, a := range at {
				if a < outageRun {
					load = append(load, simReq{At: a, Client: c})
				}
			}
		}
		slices.SortStableFunc(load, func(a, b simReq) int { return int(a.At - b.At) })
		down := func(at time.Duration) bool { return at >= outageStart && at < outageStart+outageLength }
		up := newFakeUpstream(len(load), func(c simCall) simAnswer {
			if down(c.At) {
				return simAnswer{Latency: 5 * time.Millisecond, Status: http.StatusServiceUnavailable, RetryAfter: retryAfter}
			}
			return simAnswer{Latency: 10 * time.Millisecond}
		})
		clients := make([]http.RoundTripper, outageClients)
		for i := range clients {
			clients[i] = newClient(i)(up)
		}
		simDrive(clients, up, load)
		synctest.Wait()

		secs := int(outageRun/time.Second) + 40 // retries may land after the last request started
		out.calls, out.offered = make([]int, secs), make([]int, secs)
		var outReq, outCalls int
		for i, arr := range up.attempts() {
			s := int(load[i].At / time.Second)
			out.offered[s]++
			for _, a := range arr {
				out.calls[int(a/time.Second)]++
			}
			if down(load[i].At) {
				outReq++
				outCalls += len(arr)
			}
		}
		out.callsPerRequest = float64(outCalls) / float64(outReq)
		r := int((outageStart + outageLength) / time.Second)
		out.afterRecovery = float64(out.calls[r]) / float64(out.offered[r])
	})
	return out
}

// TestFakeClockOutage is the evidence that retries neither multiply a dead
// upstream's load nor meet its recovery with a wave: 100 clients at 10
// requests per second each, every attempt failing for 5 s, on the fake
// clock. With zero Configs (a private budget per client), the clients must
// send at most 1.2 upstream calls per request during the outage, and the
// second after recovery at most 1.5× the offered load, with and without a
// Retry-After: 1 on the 503s. failsafe-go's recommended HTTP retry policy
// and a budget shared by all 100 clients are shown beside them.
//
//	go test -run TestFakeClockOutage -v .
func TestFakeClockOutage(t *testing.T) {
	arms := []struct {
		name string
		new  func() func(i int) func(http.RoundTripper) http.RoundTripper
	}{
		{"tailguard retry, zero Config", func() func(int) func(http.RoundTripper) http.RoundTripper {
			return func(int) func(http.RoundTripper) http.RoundTripper { return retry.New(retry.Config{}).Wrap }
		}},
		{"tailguard retry, one budget shared by all", func() func(int) func(http.RoundTripper) http.RoundTripper {
			b := budget.New(budget.Config{})
			return func(int) func(http.RoundTripper) http.RoundTripper { return retry.New(retry.Config{Budget: b}).Wrap }
		}},
		{"failsafe-go retry policy", func() func(int) func(http.RoundTripper) http.RoundTripper {
			return func(int) func(http.RoundTripper) http.RoundTripper {
				return func(b http.RoundTripper) http.RoundTripper { return failsafehttp.NewRoundTripper(b, failsafeRetry()) }
			}
		}},
	}
	var report []string
	for _, header := range []string{"", "1"} {
		what := "503"
		if header != "" {
			what = "503 with Retry-After: " + header
		}
		for ai, arm := range arms {
			r := runOutage(t, arm.new(), header)
			worst := 0.0
			for s := int(outageStart / time.Second); s < int(outageStart/time.Second)+10; s++ {
				worst = max(worst, float64(r.calls[s])/float64(r.offered[s]))
			}
			report = append(report, fmt.Sprintf("| %s | %s | %.2f | %.2f× | %.2f× |", what, arm.name,
				r.callsPerRequest, r.afterRecovery, worst))
			if ai == 0 {
				if r.callsPerRequest > 1.2 {
					t.Errorf("%s: %.2f upstream calls per request during the outage, want ≤ 1.2", what, r.callsPerRequest)
				}
				if r.afterRecovery > 1.5 {
					t.Errorf("%s: the second after recovery carried %.2f× the offered load, want ≤ 1.5×", what, r.afterRecovery)
				}
			}
		}
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stdout, "\n%d clients × %g requests/s, every attempt 503 for %v from t = %v:\n\n", outageClients, outageRate, outageLength, outageStart)
		fmt.Fprintln(os.Stdout, "| outage answer | client | calls per request in the outage | second after recovery (× offered) | worst second (× offered) |\n|---|---|---|---|---|")
		for _, row := range report {
			fmt.Fprintln(os.Stdout, row)
		}
	}
}
