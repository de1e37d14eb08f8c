// Command quotalab runs the quota lab's arms for tailguard and its peers
// side by side: a plain client, go-retryablehttp with its defaults,
// failsafe-go's HTTP retry policy, that policy over failsafe-go's smooth
// rate limiter set to the quota, and tailguard's arms, one after another,
// each against its own loopback quota server (100 requests/s in bursts of 10, GCRA), all
// offered 300 requests/s by 16 open-loop callers for 30 s, once per
// header dialect.
//
//	cd bench && go run ./cmd/quotalab                          # all four dialects, about 15 min
//	cd bench && go run ./cmd/quotalab -dialect bare -svg q.svg # one, with the timeline plot
//
// It checks the throttle arm against the throttle issue's targets, the peers
// included. The tailguard arms alone are go run ./examples/quota; the fake-clock
// version of this comparison is TestFakeClockQuotaLab in bench/.
package main

import (
	"github.com/tailguard/tailguard/bench"
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/examples/lab/quota"
)

func main() { lab.RunMain("quotalab", run) }

// The failsafe-go limiter is set to the quota and may wait as long as the
// request's deadline allows, as tailguard's throttle may.
var run = quota.Command("quotalab", func(o quota.Options) []lab.Arm {
	return bench.QuotaArms(o.Limit.Rate, o.Load.Timeout)
})
