package bench

import (
	"net/http"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/ratelimiter"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/examples/lab/quota"
)

// Names of the quota lab's peer arms.
const (
	ArmRetryableHTTP   = "retryablehttp"
	ArmFailsafeRetry   = "failsafe retry"
	ArmFailsafeLimiter = "failsafe retry+limiter"
)

// QuotaPeerArms are the quota lab's peer setups, in the order the table
// shows them: go-retryablehttp with its defaults (5 attempts, 1 s to 30 s
// backoff, Retry-After honoured on 429 and 503); failsafe-go's HTTP retry
// policy (3 attempts, integer Retry-After honoured, otherwise no delay);
// and that policy over failsafe-go's smooth rate limiter set to the
// quota, as a user who knows the quota would configure it: perSecond
// permits per second, each attempt (retries too) taking one, waiting up to
// maxWait for it.
func QuotaPeerArms(perSecond int, maxWait time.Duration) []lab.Arm {
	return []lab.Arm{
		{Name: ArmRetryableHTTP, Wrap: RetryableHTTPDefaults},
		{Name: ArmFailsafeRetry, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base, failsafeRetry())
		}},
		{Name: ArmFailsafeLimiter, Wrap: func(base http.RoundTripper) http.RoundTripper {
			limiter := ratelimiter.NewSmoothBuilder[*http.Response](uint(perSecond), time.Second).
				WithMaxWaitTime(maxWait).Build()
			// The first policy is outermost: the retry policy wraps the
			// limiter, so every attempt waits for a permit.
			return failsafehttp.NewRoundTripper(base, failsafeRetry(), limiter)
		}},
	}
}

// RetryableHTTPDefaults is go-retryablehttp exactly as NewClient
// configures it (RetryMax 4, RetryWaitMin 1 s, RetryWaitMax 30 s), as an
// http.RoundTripper, with only its default logger (DEBUG lines on stderr,
// #31) silenced.
func RetryableHTTPDefaults(base http.RoundTripper) http.RoundTripper {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: base}
	c.Logger = nil
	return &retryablehttp.RoundTripper{Client: c}
}

// QuotaArms is the quota lab's full comparison, in table order: the plain
// client, the peers, tailguard's own arms (quota.TailguardArms), then
// tailguard's throttle given the quota by hand (quota.ThrottleAtQuotaArm),
// the like of the failsafe-go limiter arm. Both get perSecond requests per
// second; the limiter waits up to maxWait for a permit, as the lab lets
// tailguard's throttle wait.
func QuotaArms(perSecond int, maxWait time.Duration) []lab.Arm {
	tg := quota.TailguardArms()
	arms := append([]lab.Arm{tg[0]}, QuotaPeerArms(perSecond, maxWait)...)
	arms = append(arms, tg[1:]...)
	return append(arms, quota.ThrottleAtQuotaArm(perSecond))
}
