package main

import (
	"testing"

	"github.com/tailguard/tailguard/examples/lab/quota"
)

// TestFakeClockLab is the quota lab in CI: the tailguard arms on the fake
// clock, every dialect, the throttle issue's targets checked on the
// throttle arm (the peer comparison is bench's TestFakeClockQuotaLab).
//
//	go test -run TestFakeClockLab -v ./examples/quota   # tables and every verdict
func TestFakeClockLab(t *testing.T) {
	runs := quota.RunFakeClock(t, quota.Dialects, quota.TailguardArms)
	for _, d := range quota.Dialects {
		plain, retried := quota.Find(t, runs[d], quota.ArmPlain), quota.Find(t, runs[d], quota.ArmRetry)
		// The server admits the quota whatever a client does: a client
		// that never waits gets all of it.
		if plain.Goodput < 0.99 || plain.SentPerOffered() != 1 {
			t.Errorf("%v plain: goodput %.3f, sent/offered %.2f", d, plain.Goodput, plain.SentPerOffered())
		}
		// The retry stage's budget (20% of requests + 10/s) caps the
		// amplification at 1.24× the offered load (the issue measured
		// 1.23× through nginx); its failure gate, which closes while most
		// attempts fail (here 2 of 3 are refused), keeps it at 1.00×.
		if got := retried.SentPerOffered(); got > 1.24 {
			t.Errorf("%v tailguard retry: sent %.2f× the offered load, want ≤ 1.24× (budget)", d, got)
		}
		quota.CheckTargets(t, quota.Find(t, runs[d], quota.ArmThrottle), nil, quota.ThrottleKnownMisses)
	}
}
