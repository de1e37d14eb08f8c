// Package pipeline chains tailguard stages (or any of your own) into one
// [http.RoundTripper].
//
// A stage is anything with a Wrap(next http.RoundTripper) http.RoundTripper
// method: hedge.New, retry.New and breaker.New return stages, and
// [StageFunc] turns a plain function into one. This package imports none of
// them; any value of the right shape composes.
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
//     The whole operation can take up to the retry budget's time, but a slow
//     first attempt is covered by a hedge at once. A pause the server asks
//     for (Retry-After), which retry waits out, stops hedging of that request:
//     retry reports it to the hedge stage. This is the recommended order for
//     latency-sensitive reads.
//   - retry(hedge(...)) — hedge inside retry. Every retry is itself hedged; a
//     failure of the whole hedged race triggers one backoff. Use it when each
//     try must be fast but failures are bursty.
//   - breaker innermost — it sees every attempt (originals, hedges, retries)
//     and fails fast per host. An open breaker's error says "rejected
//     locally, retry after d" (idempotency.Rejection): retry returns it at
//     once instead of hammering or parking the caller (waiting for the
//     probe is the breaker's own opt-in, its Config.MaxWait), and hedge
//     never lets such a rejection beat an attempt still in flight. A
//     breaker outside retry would count a whole retried operation as one
//     outcome and hide its failures.
//
// Recommended: pipeline.New(hedge, retry, breaker) — the same order as
// Microsoft's standard hedging handler (hedging outside, per-endpoint
// breaker inside), and every stage's zero Config is its recommended setup.
// Stages that share one budget.Budget count each caller request once,
// whichever order they are in.
//
// # Concurrency
//
// A [Pipeline] is safe for concurrent use if its stages and base transport
// are, as tailguard's are.
package pipeline
