package quota

import (
	"net/http"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// Names of the tailguard arms, as tables and tests refer to them.
const (
	ArmPlain = "plain"
	ArmRetry = "tailguard retry"
	// ArmThrottle is the recommended pipeline, throttle included.
	ArmThrottle = "tailguard throttle"
)

// TailguardArms are the quota lab's tailguard setups, each as a user
// would write it (every Config zero): a plain client for reference, the
// retry stage alone, and the recommended pipeline with the throttle
// inside the retry stage, where every attempt passes through it (the
// throttle package's documented order). Each Wrap builds fresh state.
func TailguardArms() []lab.Arm {
	return []lab.Arm{
		{Name: ArmPlain},
		{Name: ArmRetry, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return retry.New(retry.Config{}).Wrap(base)
		}},
		{Name: ArmThrottle, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return pipeline.NewWithBase(base, hedge.New(hedge.Config{}), retry.New(retry.Config{}),
				throttle.New(throttle.Config{}), breaker.New(breaker.Config{}))
		}},
	}
}

// ArmThrottleAtQuota is the recommended pipeline with the throttle given
// the quota by hand (see [ThrottleAtQuotaArm]).
const ArmThrottleAtQuota = "tailguard throttle at the quota"

// ThrottleAtQuotaArm is the recommended pipeline with the throttle set to
// the quota by hand, perSecond requests a second spaced evenly
// (throttle.Config{Rate: perSecond}), as a user who knows the quota would
// write it: the like of failsafe-go's limiter set to the quota, which the
// learning arm ([ArmThrottle]) cannot match on a host that does not
// announce its quota, since it finds the quota only by exceeding it.
func ThrottleAtQuotaArm(perSecond int) lab.Arm {
	return lab.Arm{Name: ArmThrottleAtQuota, Wrap: func(base http.RoundTripper) http.RoundTripper {
		return pipeline.NewWithBase(base, hedge.New(hedge.Config{}), retry.New(retry.Config{}),
			throttle.New(throttle.Config{Rate: rate.Limit(perSecond)}), breaker.New(breaker.Config{}))
	}}
}
