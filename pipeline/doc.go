// Package pipeline chains tailguard stages (or any of your own) into one
// [http.RoundTripper].
//
// A stage is anything with a Wrap(next http.RoundTripper) http.RoundTripper
// method: hedge.New, retry.New, throttle.New and breaker.New return stages, and
// [StageFunc] turns a plain function into one. This package imports none of
// them; any value of the right shape composes. [New] builds a [Pipeline]
// over [http.DefaultTransport], [NewWithBase] over a transport of your own.
//
// # Order
//
// The first stage is the outermost:
//
//	pipeline.New(hedge, retry, breaker)  ==  hedge(retry(breaker(http.DefaultTransport)))
//
// A request flows down the list and its response flows back up:
//
//	caller ──▶ hedge ──▶ retry ──▶ breaker ──▶ transport ──▶ upstream
//	              │ attempt 1 ─▶ retry ─▶ breaker ─▶ ...
//	              └ hedge 1 ───▶ retry ─▶ breaker ─▶ ...   (after the hedge delay)
//
// Order changes meaning:
//
//   - hedge(retry(...)) — retry inside hedge. Each hedged attempt retries on
//     its own; a hedge is raced against an attempt that may be backing off.
//     The whole operation can last as long as the retry stage's attempts and
//     backoffs (the budget bounds how many retries there are, not how long
//     they take), but a slow first attempt is covered by a hedge at once. A pause the server asks
//     for (Retry-After), which retry waits out, stops hedging of that request:
//     retry reports it to the hedge stage. This is the recommended order for
//     latency-sensitive reads.
//
//   - retry(hedge(...)) — hedge inside retry. Every retry is itself hedged; a
//     failure of the whole hedged race triggers one backoff. Use it when each
//     try must be fast but failures are bursty.
//
//   - breaker innermost — it sees every attempt (originals, hedges, retries)
//     and fails fast per host. An open breaker's error says "rejected
//     locally, retry after d" (idempotency.Rejection): retry returns it at
//     once instead of hammering or parking the caller (waiting for the
//     probe is the breaker's own opt-in, its Config.MaxWait), and hedge
//     never lets such a rejection beat an attempt still in flight. A
//     breaker outside retry would count a whole retried operation as one
//     outcome and hide its failures.
//
//   - throttle inside retry and hedge, outside the breaker —
//     pipeline.New(hedge, retry, throttle, breaker). Every attempt passes
//     through it: originals and retries wait at a closed gate or for a pace
//     slot (within the throttle's MaxWait and the deadline), hedges racing
//     a live attempt are sent only with spare capacity and never wait (a
//     hedge that re-sends a failed try is that try's retry, and waits like
//     one), and what one response
//     says (a pause, a quota) applies to every caller of the host. Its
//     refusals are idempotency.Rejections: nothing was sent, so retry and
//     hedge treat them as local refusals and the breaker never counts them.
//     The breaker below it sees only requests that were sent, and never
//     holds a half-open probe slot while the probe waits for the throttle.
//
//   - throttle outside retry — pipeline.New(throttle, retry, breaker). The
//     throttle sees one logical request, not its attempts: retries bypass
//     the gate and the pacing, a quota counted in requests is overrun by
//     every retry, and the throttle learns only from the last attempt's
//     response. Outside hedge it is worse: hedges spend quota the throttle
//     never sees. Avoid both.
//
//   - throttle inside the breaker — pipeline.New(hedge, retry, breaker,
//     throttle). Requests the breaker admitted wait in the throttle, so a
//     half-open probe can sit in a queue while others are refused; the
//     breaker ignores the throttle's refusals (they are Rejections), so
//     nothing worse happens.
//
// Recommended: pipeline.New(hedge, retry, throttle, breaker), every stage's
// zero Config being its recommended setup; without a rate-limited upstream,
// pipeline.New(hedge, retry, breaker). Hedging outside and the per-endpoint
// breaker inside is Microsoft's standard hedging handler's order. Its
// standard resilience handler puts a rate limiter outermost, but that one
// bounds the caller's own concurrency; a throttle that keeps to an
// upstream's quota must see every attempt, so it sits inside retry and
// hedge. Stages that share one budget.Budget count each caller request once,
// whichever order they are in.
//
// # Concurrency
//
// A [Pipeline] is safe for concurrent use if its stages and base transport
// are, as tailguard's are.
package pipeline
