// Package budget limits extra attempts — retries and hedges — to a fraction of
// first attempts in every recent span of time, with a small per-second floor,
// and stops them while the upstream fails most of what it is sent.
//
// Redundant requests help only while the upstream has headroom: duplicating
// traffic to a busy server adds load exactly when it can least absorb it
// (Vulimiri et al., CoNEXT 2013). A [Budget] caps that amplification, the way
// Finagle's and Linkerd's retry budgets do, without letting allowance banked
// over quiet seconds be spent as a burst, and with gRPC's retry throttling
// (gRFC A6) as a second rule for clients too quiet for a ratio to bind.
//
// # Contract
//
// A caller of a [Budget] must:
//
//   - call [Budget.Deposit] once per logical request, when its first attempt is
//     sent, and never for a retry or a hedge;
//   - call [Budget.Withdraw] before every extra attempt (a retry or a hedge) and
//     send that attempt only if Withdraw returned true. A granted withdrawal is
//     counted at once; there is nothing to return or release afterwards;
//   - report how each attempt it sent fared with [Budget.RecordSuccess] or
//     [Budget.RecordFailure] (or neither, when the outcome says nothing about
//     the upstream), if it is the one that deposited.
//
// A [Budget] never blocks, never sleeps, starts no goroutine and holds no
// resource, so it needs no Close. Every method is safe for concurrent use, and
// one *Budget is meant to be shared: give the same value to the retry stage and
// the hedge stage so that together they cannot exceed the bound.
//
// # Rules
//
// Withdraw grants an extra attempt if and only if, for every span of time
// ending now and no longer than [Config.Window],
//
//	extras + 1 ≤ Ratio × firsts + MinPerSecond × Window
//
// and the failure gate is open: more than MaxTokens / 2 tokens remain, where
// each failure takes one token and each success gives one back. The zero
// [Config] gives 20% of requests plus 10 extras per second in every span of
// a second (Finagle's and Linkerd's ratio and floor) and a 10-token gate
// (gRPC's example): a client whose attempts all fail stops sending extras
// after 5 failures.
package budget
