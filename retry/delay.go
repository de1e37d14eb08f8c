package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/saturate"
)

// RetryAfterSpread is how much later than asked a Retry-After wait may end:
// the stage waits a uniformly drawn time in [d, d × (1 + RetryAfterSpread)]
// for a server's d. Never earlier: the server's time is a minimum. A little
// later, because the clients a server pushes back at once (an outage that
// failed every request in flight, an HTTP-date naming one instant for
// all) would otherwise come back in the same millisecond, a synchronized
// wave that meets the recovering server with all of its load at once.
// Envoy spreads rate-limited retries over [d, 1.5 d]; here the budget's
// rate rule and failure gate already bound how many retries there are, so
// the spread only has to break the synchronization, and a fifth of the
// wait does (a 1 s wait ends within 200 ms, costing the caller 100 ms on
// average).
const RetryAfterSpread = 0.2

// stopReason says why a request is not retried.
type stopReason uint8

const (
	stopNone      stopReason = iota // retry
	stopPolicy                      // the outcome or the request is not retryable
	stopExhausted                   // MaxAttempts reached (or the policy said backoff.Stop)
	stopBudget                      // the budget refused
	stopDeadline                    // the wait would end at or past the context deadline
	stopTooLong                     // the requested wait exceeds MaxRetryAfter
	stopBody                        // GetBody failed: the next attempt cannot be sent
	stopResent                      // an enclosing hedge re-sent the request as this failure's retry
)

// verdict is the decision taken after one attempt.
type verdict struct {
	stop   stopReason
	delay  time.Duration
	server bool // delay was asked for by the upstream (Retry-After)
}

// decide says whether attempt n, classified as out, may be retried and
// after how long. The budget is not asked here: the caller withdraws only
// once every other check passed and the next attempt's body exists, so no
// budget is spent on a retry the stage decided against or could not send;
// a withdrawal is not returned if the caller cancels during the wait.
// *policy is built on first use: a request that never backs off allocates
// none.
func (r *Retrier) decide(ctx context.Context, n int, rp replay, out idempotency.Outcome,
	resp *http.Response, err error, policy *backoff.BackOff) verdict {
	if !attempt.Charged(ctx, r.cfg.budget) {
		// This stage deposited the request, so it reports how each
		// attempt fared to the budget's failure gate.
		attempt.RecordOutcome(r.cfg.budget, out.Kind)
	}
	switch {
	case out.Kind == idempotency.Rejected:
		// A stage that rejects has already applied its own waiting
		// policy (a breaker fails fast unless its MaxWait lets requests
		// wait for the probe; a throttle waits up to its MaxWait and
		// rejects only when waiting is not allowed). Waiting again here
		// would park callers behind an open breaker (issue 11, bug 11),
		// and a blind backoff would only hit the same refusal.
		return verdict{stop: stopPolicy}
	case !out.Kind.Retryable():
		return verdict{stop: stopPolicy}
	case rp == replayAll, rp == replayNeverSent && out.NeverSent:
	default:
		return verdict{stop: stopPolicy}
	}
	if n >= r.cfg.maxAttempts {
		return verdict{stop: stopExhausted}
	}

	var v verdict
	if err == nil && resp != nil {
		// Retry-After is honoured on any retryable response, not only on
		// 429 and 503: a server that names a time knows better than our
		// backoff. It is never shortened or jittered below, only spread
		// a little above (see RetryAfterSpread). One that asks for no
		// pause (0, a date past) is no throttle: the backoff applies, or
		// a dead load balancer answering "503, Retry-After: 0" would get
		// every attempt back to back.
		v.delay, v.server = idempotency.PauseAsked(resp.Header, time.Now())
	}
	if !v.server {
		if *policy == nil {
			*policy = r.cfg.jitter(r.cfg.baseDelay, r.cfg.maxDelay)
		}
		v.delay = (*policy).NextBackOff()
		if v.delay < 0 { // backoff.Stop from a custom policy
			return verdict{stop: stopExhausted}
		}
	}
	if v.server && v.delay > r.cfg.maxRetryAfter {
		// go-retryablehttp #247 slept for whatever the server said; the
		// caller is better served by the response now.
		return verdict{stop: stopTooLong}
	}
	if v.server {
		v.delay = spread(v.delay, rand.Float64())
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Add(v.delay).Before(deadline) {
		return verdict{stop: stopDeadline}
	}
	return v
}

// spread returns d stretched by the fraction u ∈ [0, 1) of
// RetryAfterSpread, saturating instead of overflowing.
func spread(d time.Duration, u float64) time.Duration {
	return saturate.Add(d, saturate.Seconds(u*RetryAfterSpread*d.Seconds()))
}

// wait sleeps for d unless ctx ends first, in which case it returns
// ctx.Err() at once. The timer is stopped either way.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pushback tells an enclosing race (a hedge stage outside this one) that
// the upstream asked for a pause: its hedges, fired on a timer while this
// stage waits the pause out, would ignore the request (issue 11, bug 10:
// 6 requests in 2 s for one caller request in hedge(retry(breaker))). It
// reports a failed response's Retry-After that is valid and not past,
// whether or not this stage then waits for it.
func pushback(ctx context.Context, out idempotency.Outcome, resp *http.Response, err error) {
	if err != nil || resp == nil || out.Kind == idempotency.Success || out.Kind == idempotency.Final {
		return
	}
	now := time.Now()
	if d, ok := idempotency.PauseAsked(resp.Header, now); ok {
		attempt.Pause(ctx, now.Add(d))
	}
}
