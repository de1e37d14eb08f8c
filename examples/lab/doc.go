// Package lab is the tail-latency lab behind examples/taillab, the
// replica lab (examples/replicalab) and the peer comparison in bench/: a
// server whose latency follows a chosen distribution (over loopback
// HTTP/1.1, HTTP/2 with TLS, or in memory for the fake clock), a [Fleet]
// of such servers as replicas of one service, some pausing on a [Stall]
// schedule, an open-loop load driver, percentiles, the ideal a hedge can
// reach, an SVG CDF plot and a terminal progress bar.
//
// It is support code for the examples and benchmarks, not part of
// tailguard's API, and carries no compatibility promise. It is a public
// package only because bench/ is a separate module, which Go's internal rule
// would otherwise keep out.
//
// # Method
//
// The lab must measure what a user would see, so:
//
//   - Each attempt's latency is drawn independently on the server, from a
//     seeded source that [Server.Reset] rewinds: every arm faces the same
//     sequence of draws.
//   - Arrivals are open-loop: request i is sent at a fixed offset from the
//     start (a seeded Poisson schedule), whatever happened to earlier ones,
//     and its latency is measured from that intended start. A closed loop
//     would send less while the upstream is slow and hide the tail
//     ("coordinated omission").
//   - Extra load is counted where it costs, on the server: attempts received
//     per request sent, minus one.
//
// # Concurrency
//
// [Server] and [Progress] are safe for concurrent use. [Dist] values are
// immutable; their Sample method uses the caller's random source, which is
// not safe for concurrent use.
package lab
