package bench

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/tailguard/tailguard/hedge"
)

// hostsRun is what one client saw in the many-hosts scenario.
type hostsRun struct {
	hotP999, coldP999   time.Duration
	hotExtra, coldExtra float64 // extra attempts per request
}

// runHosts drives d1 traffic at 1,000 requests per second to one hot host
// for 20 s; with cold > 0, every other request goes instead to the next of
// cold hosts in rotation (so 2,000 per second in all), each seen every
// cold requests.
func runHosts(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper, cold int) hostsRun {
	var out hostsRun
	synctest.Test(t, func(t *testing.T) {
		const hotN = 20_000
		n := hotN
		if cold > 0 {
			n *= 2
		}
		at := poisson(n, float64(n)/20, 7)
		load := make([]simReq, n)
		for i := range load {
			load[i].At = at[i]
			load[i].Host = "hot.test"
			if cold > 0 && i%2 == 1 {
				load[i].Host = fmt.Sprintf("cold-%d.test", (i/2)%cold)
			}
		}
		up := newFakeUpstream(n, func(c simCall) simAnswer {
			d, _ := drawD1(c.ID, c.N, 1)
			return simAnswer{Latency: d}
		})
		res := simDrive([]http.RoundTripper{wrap(up)}, up, load)
		synctest.Wait()
		arrivals := up.attempts()
		var hot, coldLat []time.Duration
		var hotAtt, coldAtt int
		for i, r := range load {
			if r.Host == "hot.test" {
				hot = append(hot, res[i].Latency)
				hotAtt += len(arrivals[i])
			} else {
				coldLat = append(coldLat, res[i].Latency)
				coldAtt += len(arrivals[i])
			}
		}
		out.hotP999 = quantile(hot, 0.999)
		out.hotExtra = float64(hotAtt)/float64(len(hot)) - 1
		if len(coldLat) > 0 {
			out.coldP999 = quantile(coldLat, 0.999)
			out.coldExtra = float64(coldAtt)/float64(len(coldLat)) - 1
		}
	})
	return out
}

// TestFakeClockManyHosts is the evidence that a host in constant use keeps
// its latency estimate however many other hosts pass by: 1,000 requests
// per second of d1 to a hot host, interleaved with as many to 1,000 or
// 10,000 cold hosts in rotation (each seen once a second, or once every
// 10 s), on the fake clock. The hot host's p99.9 must stay within 1.2× of
// the same traffic alone. failsafe-go's quantile hedge keeps one estimate
// for every host, so cold hosts cannot evict anything; it is shown for
// reference.
//
//	go test -run TestFakeClockManyHosts -v .
func TestFakeClockManyHosts(t *testing.T) {
	arms := []struct {
		name string
		wrap func(http.RoundTripper) http.RoundTripper
	}{
		{"tailguard adaptive p95", func(b http.RoundTripper) http.RoundTripper { return hedge.New(hedge.Config{}).Wrap(b) }},
		{"failsafe-go quantile p95", func(b http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(b, hedgepolicy.NewWithDelayQuantile[*http.Response](0.95, 1000, hedge.MinSamples))
		}},
	}
	var table []string
	for ai, arm := range arms {
		alone := runHosts(t, arm.wrap, 0)
		table = append(table, fmt.Sprintf("| %s | alone | %v | %.1f%% | | |", arm.name, alone.hotP999, 100*alone.hotExtra))
		for _, cold := range []int{1000, 10000} {
			r := runHosts(t, arm.wrap, cold)
			ratio := float64(r.hotP999) / float64(alone.hotP999)
			table = append(table, fmt.Sprintf("| %s | %d cold hosts | %v (%.2f×) | %.1f%% | %v | %.1f%% |",
				arm.name, cold, r.hotP999, ratio, 100*r.hotExtra, r.coldP999, 100*r.coldExtra))
			if ai == 0 && ratio > 1.2 {
				t.Errorf("with %d cold hosts the hot host's p99.9 is %v, %.2f× its %v alone (want ≤ 1.2×)", cold, r.hotP999, ratio, alone.hotP999)
			}
		}
	}
	if testing.Verbose() {
		fmt.Fprintln(os.Stdout, "\nhot host at 1000/s of d1, alone or interleaved with cold hosts in rotation, 20 s:")
		fmt.Fprintln(os.Stdout, "\n| client | traffic | hot p99.9 | hot extra | cold p99.9 | cold extra |\n|---|---|---|---|---|---|")
		for _, row := range table {
			fmt.Fprintln(os.Stdout, row)
		}
	}
}
