// Package quota is the quota lab behind examples/quota and the peer
// comparison bench/cmd/quotalab: a rate-limited upstream, a workload that
// offers it three times its quota, and the measures of how well a client
// lives with that.
//
// It is support code for the examples, benchmarks and tests, not part of
// tailguard's API, and carries no compatibility promise. It is a public
// package only because bench/ and the other nested modules are separate
// modules, which Go's internal rule would otherwise keep out.
//
// # The upstream
//
// [Server] keeps a quota per client key ([KeyHeader]) with the generic
// cell rate algorithm — by default 100 requests per second in bursts of
// 10 — and answers requests over it with 429 Too Many Requests, in one
// of four [Dialect]s: the IETF RateLimit fields, GitHub's X-RateLimit-*
// headers, Retry-After alone, or a bare 429. The headers say what a GCRA
// knows, in redis_rate's terms: the quota per period, the requests that
// would pass right now (the burst left), when the full burst is back, and
// on a 429 how long until the next request would pass, rounded up to
// whole seconds (a 100/s quota's 10 ms becomes "Retry-After: 1").
//
// The server reads time.Now, so it runs on a testing/synctest bubble's
// fake clock when served through [lab.InMemory], and on the wall clock
// behind an httptest.Server, for clients in this process or others.
//
// # Method
//
//   - Open loop: 16 callers by default, each a Poisson source, together
//     300 requests per second for 30 s, every request on its own
//     goroutine ([Load]). A client that waits does not make the callers
//     offer less.
//   - Every arm runs at the same time as the others, with its own server
//     and so its own quota, the same schedule and a cold client.
//   - What is counted where it costs: requests sent and 429s on the
//     server, successes, failures and latencies at the caller ([Result]).
//
// # Concurrency
//
// [Server] is safe for concurrent use. [Compare] runs its arms
// concurrently and returns when every request has finished.
package quota
