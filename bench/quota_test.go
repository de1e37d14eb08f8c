package bench

import (
	"testing"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/examples/lab/quota"
)

// peerDialects are the dialects the peers are run on in the fake-clock
// comparison. The peers read nothing but Retry-After (failsafe-go and
// go-retryablehttp learn nothing from rate-limit headers), so on the IETF
// and GitHub dialects they do exactly what they do on Retry-After alone —
// on the fake clock, to the request (the loopback lab runs them on all
// four) — and running them there too would only triple the test's cost.
var peerDialects = []quota.Dialect{quota.RetryAfterOnly, quota.Bare}

// peersFor is the peer run that stands for dialect d.
func peersFor(runs map[quota.Dialect][]quota.Result, d quota.Dialect) []quota.Result {
	if d == quota.Bare {
		return runs[quota.Bare]
	}
	return runs[quota.RetryAfterOnly]
}

func quotaArms() []lab.Arm { return QuotaArms(quota.DefaultRate, quota.DefaultTimeout) }

// throttleArms are tailguard's throttle arms alone, learning the quota and
// given it by hand, for the dialects the peers are not run on.
func throttleArms() []lab.Arm {
	arms := []lab.Arm{quota.ThrottleAtQuotaArm(quota.DefaultRate)}
	for _, a := range quota.TailguardArms() {
		if a.Name == quota.ArmThrottle {
			return append(arms, a)
		}
	}
	panic("no throttle arm")
}

// peers are the other libraries' arms of a run.
func peers(rs []quota.Result) []quota.Result {
	var out []quota.Result
	for _, r := range rs {
		switch r.Name {
		case ArmRetryableHTTP, ArmFailsafeRetry, ArmFailsafeLimiter:
			out = append(out, r)
		}
	}
	return out
}

// TestFakeClockQuotaLab is bench/cmd/quotalab on the fake clock, with the
// throttle issue's targets checked against the peers.
//
//	go test -run TestFakeClockQuotaLab -v .   # prints the tables
func TestFakeClockQuotaLab(t *testing.T) {
	runs := quota.RunFakeClock(t, peerDialects, quotaArms)
	for _, d := range peerDialects {
		plain := quota.Find(t, runs[d], quota.ArmPlain)
		for _, r := range runs[d] {
			// The server admits the quota to anyone who asks often enough:
			// every arm that neither learns nor waits long for pushback gets
			// ≈ all of it. (The throttle's goodput is a target, below.)
			if r.Name != quota.ArmThrottle && r.Goodput < 0.99 {
				t.Errorf("%v %s: goodput %.1f%%, want ≈ 100%%", d, r.Name, 100*r.Goodput)
			}
		}
		// What the issue measured through nginx (bare 429s), reproduced:
		// go-retryablehttp and failsafe-go's retry send 2.3–3.9× the offered
		// load; with the quota known, failsafe-go's limiter sends no 429.
		for name, lo := range map[string]float64{ArmRetryableHTTP: 2.3, ArmFailsafeRetry: 2.3} {
			if got := quota.Find(t, runs[d], name).SentPerOffered(); got < lo || got > 3.95 {
				t.Errorf("%v %s sent %.2f× the offered load, want %.1f–3.9×", d, name, got, lo)
			}
		}
		if lim := quota.Find(t, runs[d], ArmFailsafeLimiter); lim.Throttled != 0 || lim.Sent > plain.Sent {
			t.Errorf("%v %s: %d 429s, sent %d", d, ArmFailsafeLimiter, lim.Throttled, lim.Sent)
		}
	}
	// The throttle issue's targets, against every peer. Given the quota
	// by hand, as failsafe-go's limiter is, the throttle must meet every
	// one of them in every dialect: the known misses are a learning
	// client's, on hosts that do not announce their quota.
	for d, rs := range quota.RunFakeClock(t, []quota.Dialect{quota.IETF, quota.GitHub}, throttleArms) {
		runs[d] = rs
	}
	for _, d := range quota.Dialects {
		th := quota.Find(t, runs[d], quota.ArmThrottle)
		quota.CheckTargets(t, th, peers(peersFor(runs, d)), quota.ThrottleKnownMisses)
		at := quota.Find(t, runs[d], quota.ArmThrottleAtQuota)
		quota.CheckTargets(t, at, peers(peersFor(runs, d)), nil)
	}
}
