// Command quota measures how a client lives with a rate-limited upstream.
// It starts a loopback server that keeps a quota per client (100
// requests/s in bursts of 10, GCRA) and answers requests over it with
// 429, announcing the quota in one of four dialects (IETF RateLimit
// fields, GitHub's X-RateLimit-*, Retry-After alone, a bare 429); 16
// callers offer it 300 requests/s for 30 s, open loop, through each
// tailguard arm side by side (a plain client, the retry stage alone, and
// the recommended pipeline with the throttle, learning the quota or given
// it by hand); it prints per arm the
// goodput against the quota, 429s per 1,000 requests sent, latency of
// successes, failures, requests sent per success and the burst released
// after each pause, and checks the throttle arm against the throttle
// issue's targets.
//
//	go run ./examples/quota                           # all four dialects, about 8 min
//	go run ./examples/quota -dialect bare -svg q.svg  # one dialect, with the timeline plot
//
// The same comparison with go-retryablehttp and failsafe-go arms is
// bench/cmd/quotalab (cd bench && go run ./cmd/quotalab).
package main

import (
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/examples/lab/quota"
)

func main() { lab.RunMain("quota", run) }

var run = quota.Command("quota", func(o quota.Options) []lab.Arm {
	return append(quota.TailguardArms(), quota.ThrottleAtQuotaArm(o.Limit.Rate))
})
