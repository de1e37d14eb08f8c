// Package breaker stops sending HTTP requests to an upstream that keeps
// failing, per host, and probes it again after a pause.
//
// [New] returns a [*Breaker], a stage for pipeline.New that also works alone
// through [Breaker.Wrap]. The transport it returns:
//
//   - keeps one breaker per key, by default the request URL's scheme and
//     host:port ("https://api.example.com:443"), so one sick host never
//     blocks another; Config.Key changes the keying;
//   - refuses a request whose key is [Open], or [HalfOpen] with every probe
//     slot taken, at once, without any network I/O and without allocating:
//     it closes the request body, as the RoundTripper contract requires,
//     and returns a nil response and an [*OpenError] that matches [ErrOpen]
//     with [errors.Is] and implements [idempotency.Rejection]. Only with
//     Config.MaxWait does a refused request wait to be admitted (see
//     [Breaker], "Waiting for the probe");
//   - otherwise passes the request to the next transport unmodified and
//     returns its response and error untouched: it never reads or closes a
//     response body and never retries;
//   - departs from a plain RoundTripper in one way: it interprets status
//     codes, through Config.Classifier, to decide whether the upstream is
//     healthy.
//
// # What counts
//
// Each attempt is a success, a failure, or excluded (neither):
//
//   - success: 1xx–3xx, and final 4xx such as 404 — the upstream answered
//     deliberately; also 501 and 505, which describe the request;
//   - failure: transient outcomes — 5xx in the classifier's transient set,
//     408, connection refusals and resets, protocol violations in the
//     server's response (an HTTP/2 stream error over an invalid response
//     header), TLS certificate errors, and timeouts, including a
//     per-attempt deadline;
//   - excluded: a canceled caller context, a hedge canceled because another
//     attempt won, a refusal by an inner stage ([idempotency.Rejection]),
//     and throttled responses (429; 503 whose Retry-After asks for a
//     pause, where "Retry-After: 0" or a past date asks for none; 403 with
//     such a Retry-After or X-RateLimit-Remaining: 0) unless
//     Config.CountThrottled is set.
//
// Excluded attempts never open a breaker and never fail a half-open probe:
// an excluded probe frees its slot for the next one.
//
// # Trip rules
//
// A key opens when either rule of [Config] holds:
// Config.ConsecutiveFailures failures in a row, or a failure ratio of at
// least Config.FailureRatio over at least Config.MinRequests successes and
// failures in the rolling Config.Window. Outcomes count from the instant
// their attempt finished, so slow failures count too. It stays open for Config.OpenTimeout, then lets
// Config.HalfOpenProbes probes through: that many successes close it, one
// failure re-opens it.
//
// An outcome counts only in the generation of the key's state its attempt
// was sent in: every state change starts a new one, so a late failure
// sent before a trip, landing after a probe has closed the key again,
// counts in neither rule and cannot re-open a host that recovered.
//
// # Hooks
//
// Config.OnStateChange is called after the breaker has released its locks,
// so it may call [Breaker.StateOf] and [Breaker.Snapshot]; see [StateChange].
//
// # A fleet of processes
//
// Config.Fleet lets the breakers of many processes calling the same hosts
// see each other's: a key opens in a process when a quorum of the
// processes sending to it report it open (by default half of them, at
// least 2) — a state like any other, logged and reported by StateOf, that
// ends with a half-open probe — and a process started during such an open
// period starts with the key open. One process alone never opens a key for the others, no
// call is serialized and no lock is held across a request. See [Fleet].
//
// # Memory
//
// Keys are created on first use and evicted lazily, when new keys arrive:
// after Config.IdleTTL without requests, or, above Config.MaxKeys, least
// recently used first (closed keys before open ones). Admitting a new key
// looks at a bounded number of others (16), whatever the registry's size,
// so memory stays bounded under any churn: MaxKeys keys, exceeded only
// while the keys looked at all have requests in flight. A key that is not known to be healthy when it is
// evicted — open, half-open, or past its open period with no probe yet —
// is remembered in a bounded graveyard (MaxKeys graves, oldest forgotten
// first) and comes back open until its open period ends, then half-open:
// one probe, never a burst. [Breaker.StateOf] reports a remembered key's
// state; [Breaker.Snapshot] lists tracked keys only.
package breaker
