package retry

import (
	"net/http"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// RetryInfo describes a retry about to happen; [Config.OnRetry] receives
// it.
//
// OnRetry is called on the goroutine that called RoundTrip, after the
// stage has decided to retry (the budget already granted it) and before
// the wait, at most MaxAttempts−1 times per request. The failed attempt's
// response, if any, has been drained and closed, or, if its body is slow,
// is being drained in the background; the drain counts toward Delay (and
// never extends it), and so does the time OnRetry takes, so it should be
// quick.
// The stage holds no lock while calling it.
type RetryInfo struct {
	// Request is the caller's request. It must not be modified.
	Request *http.Request
	// Attempt is the number of the attempt that just failed: 1 for the
	// first.
	Attempt int
	// Delay is how long the stage will wait before the next attempt.
	Delay time.Duration
	// ServerDelay reports that Delay is what the upstream asked for with
	// Retry-After, rather than a backoff draw.
	ServerDelay bool
	// Outcome is how the failed attempt was classified.
	Outcome idempotency.Outcome
	// StatusCode is the failed attempt's status; 0 if it failed with an
	// error.
	StatusCode int
	// Err is the failed attempt's error; nil if it got a response.
	Err error
}
