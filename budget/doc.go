// Package budget limits extra attempts — retries and hedges — to a fraction of
// first attempts over a sliding window, with a small per-second floor.
//
// Redundant requests help only while the upstream has headroom: duplicating
// traffic to a busy server adds load exactly when it can least absorb it
// (Vulimiri et al., CoNEXT 2013). A [Budget] caps that amplification, the way
// Finagle's and Linkerd's retry budgets do.
//
// # Contract
//
// A caller of a [Budget] must:
//
//   - call [Budget.Deposit] once per logical request, when its first attempt is
//     sent, and never for a retry or a hedge;
//   - call [Budget.Withdraw] before every extra attempt (a retry or a hedge) and
//     send that attempt only if Withdraw returned true. A granted withdrawal is
//     counted at once; there is nothing to return or release afterwards.
//
// A [Budget] never blocks, never sleeps, starts no goroutine and holds no
// resource, so it needs no Close. Every method is safe for concurrent use, and
// one *Budget is meant to be shared: give the same value to the retry stage and
// the hedge stage so that together they cannot exceed the bound.
//
// # Rule
//
// With firsts and extras counted over the last [Config.Window], Withdraw grants
// an extra attempt if and only if
//
//	extras + 1 ≤ Ratio × firsts + MinPerSecond × Window.Seconds()
//
// The zero [Config] gives 20% of requests plus 10 extras per second over 10 s,
// Finagle's and Linkerd's defaults.
package budget
