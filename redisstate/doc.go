// Package redisstate keeps tailguard's per-host state in Redis, so that
// every process calling an upstream shares one quota, one pushback gate and
// one view of the upstream's health.
//
// A [Store] wraps a go-redis client (github.com/redis/go-redis/v9). Every
// piece of state is one small script run atomically on the server, on the
// server's clock (TIME), so processes with skewed clocks still share one
// schedule:
//
//   - a GCRA quota per key: a request takes a token available now, or
//     reserves the next one within its maximum wait, in one round trip;
//     with Config.Lease a round trip may take several tokens at once;
//   - a pushback gate per key: a pause published by one process is seen by
//     every other at its next round trip;
//   - the quota's users: how many processes asked for it in the last 5 s,
//     so that each knows its share of the quota if Redis fails;
//   - breaker reports per key ([breaker.Fleet]): which processes send to
//     the key and which of them have their breaker open, within a window,
//     for a quorum.
//
// Keys are prefixed with Config.Prefix, carry a Redis Cluster hash tag, and
// expire on their own: nothing needs cleaning up.
//
// # When Redis fails
//
// Redis down or slow never fails a request. Each call is bounded by
// Config.Timeout (5 ms by default; the client must honour context
// deadlines, see [New]). After a failed call every call fails at once with
// [ErrUnavailable], so the stage falls back to its local state without
// waiting; after Config.RetryInterval one probe, off any request's path,
// checks Redis, and sharing resumes when it answers. A store that has not
// connected yet behaves the same: [Store.Ready] waits for the connection.
package redisstate
