// Package retry is an [http.RoundTripper] stage that repeats a request
// after a transient failure or a throttling response, only when repeating
// it is safe, and never past the caller's deadline.
//
// Use it alone or in a pipeline (Example_pipeline runs both against a
// loopback server):
//
//	client := &http.Client{Transport: retry.New(retry.Config{}).Wrap(http.DefaultTransport)}
//	client = pipeline.New(hedge.New(hedge.Config{}), retry.New(retry.Config{}), breaker.New(breaker.Config{})).Client()
//
// # Contract
//
// The transport returned by [Retrier.Wrap]:
//
//   - retries only requests the [idempotency.Classifier] calls replayable
//     (GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or any method with an
//     Idempotency-Key), and only after a Transient or Throttled outcome. A
//     failure that proves the request never left the process (a dial or
//     DNS error) is retried for any method, POST included, when the body
//     can be produced again. Final 4xx (400, 401, 404, a 403 that is not
//     a rate limit, …), 501, 505 and fatal errors are never retried; a 403
//     with a Retry-After asking for a pause or X-RateLimit-Remaining: 0
//     (GitHub's secondary rate limits) is Throttled and retried;
//   - never mutates the caller's request: every attempt is a clone with a
//     fresh, identical body (from GetBody; a body without GetBody is copied
//     once, up to [Config.MaxBufferedBody], and only if the request is
//     replayable; a larger one is sent once, whole, never truncated);
//   - closes the caller's body exactly once, also when nothing is sent;
//   - drains (up to 256 KiB, for at most 500 ms) and closes every response
//     it discards, during the backoff and never beyond it: a retried error
//     response read to its end in that time keeps its keep-alive
//     connection, and what is left of a slow one drains in the background
//     while the retry goes out, so it never holds the retry;
//   - lets a client trace in the caller's context
//     ([net/http/httptrace.ClientTrace]) see each attempt in turn, never a
//     previous attempt's late events;
//   - returns the last response as a response, body unread, when it stops
//     on a status: a final 503 is a 503, not an error;
//   - makes each retry's body (GetBody) before letting go of the previous
//     attempt's result: when GetBody fails nothing is sent, so it is no
//     attempt, counts no retry and spends no budget, and the last outcome
//     that was sent is returned as if attempts had run out
//     ([Stats].BodyStops counts it);
//   - returns an [*Error] wrapping the last error, with the number of
//     attempts, when it gives up on a transport error;
//   - returns ctx.Err() untouched when the caller cancels during a wait,
//     within a timer tick, and leaves nothing running;
//   - never starts a wait that would end at or after the context deadline:
//     it returns the last outcome instead;
//   - exposes the attempt number to inner stages through the request's
//     context ([AttemptFrom]);
//   - tells an enclosing hedge stage when a failed response asks for a pause
//     (a Retry-After ahead), so that it sends no hedge into it, and when
//     each try starts and how it ends, so that the hedge learns the
//     latency of one try rather than of the retried operation, and hedges
//     at once after a failed try.
//
// Unlike the RoundTripper contract, which says a transport should not
// interpret the response, this stage reads status codes and the
// Retry-After header; retrying on a 503 is its purpose.
//
// # Delays
//
// Between attempts the stage waits, in order of precedence:
//
//  1. the pause the response's Retry-After asks for (delay-seconds or
//     HTTP-date; see [idempotency.PauseAsked]): never shortened, but
//     spread up to [RetryAfterSpread] later, so that clients pushed back
//     at the same moment do not return in lock-step. A Retry-After of 0
//     or a date already past asks for no pause, and the backoff applies:
//     a dead load balancer answering "503, Retry-After: 0" is not retried
//     back to back;
//  2. the next draw of the [Config.Jitter] policy ([FullJitter] by
//     default) over an exponential envelope from BaseDelay doubling to
//     MaxDelay.
//
// An inner stage's rejection ([idempotency.Rejection], such as an open
// breaker's breaker.ErrOpen) is returned at once, whatever RetryAfter it
// names: a stage that rejects has already applied its own waiting policy
// (a breaker fails fast unless its Config.MaxWait lets a request wait for
// the probe; a throttle waits up to its own limit and rejects only when
// waiting is not allowed). Waiting here again would park every caller
// behind an open breaker, and a blind backoff would only meet the same
// refusal.
//
// A Retry-After longer than [Config.MaxRetryAfter] is not waited
// for: the response is returned at once (go-retryablehttp #247
// slept for "484289h"). Any delay that would end at or past the context
// deadline likewise returns the last outcome at once.
//
// # Budget
//
// Every retry needs a withdrawal from a [budget.Budget] (by default a
// private one: 20% of requests plus 10/s in every second, and none while
// most attempts fail). When it is refused, the last outcome is returned and
// [Stats].BudgetDenied counts it. Share one budget with a hedge stage to
// bound their combined extra load; each caller request is deposited once
// even then. The stage that deposited reports each attempt's outcome to
// the budget's failure gate ([budget.Budget.RecordFailure]), so a client
// stops retrying into an upstream that fails everything.
//
// # Attempt timeout
//
// [Config.AttemptTimeout] bounds the wait for each attempt's response
// headers from the upstream. An attempt that runs out of it is canceled
// and classified Transient, and its error wraps [ErrAttemptTimeout]; the
// body of a response that arrived in time stays readable until the caller
// closes it. An inner stage that holds the attempt back before sending it
// (a throttle's pace turn, closed gate, debut or concurrency slot; a
// breaker's MaxWait) tells the stage so, and the timer stops for the wait
// and starts afresh when the request may go: in retry(throttle(...))
// order a request paced for 800 ms under a 500 ms AttemptTimeout is sent
// once and succeeds, instead of timing out unsent and being retried. Only
// the caller's deadline bounds such waits.
//
// # Decision log
//
// With [Config.Logger] set, the stage records each decision in the
// vocabulary of the [decision] package: retry (attempt, backoff or
// retry_after, the wait, the failed status or error), not_retried (a final
// or fatal outcome, an inner stage's rejection, a failed try an enclosing
// hedge re-sent at once: hedge_resent), gave_up at Warn
// (not_replayable, attempts_exhausted, budget, deadline,
// retry_after_too_long, body) and the request's outcome. An observer in the
// request's context ([decision.WithObserver]) receives the same events.
// Nothing is logged by default.
package retry
