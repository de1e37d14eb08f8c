// Package throttle keeps HTTP requests to rate-limited upstreams within
// what each upstream allows, per host: one response's pushback pauses every
// request to its host, the host's quota is learned from its rate-limit
// headers (or from its 429s when it sends none) and paced out evenly, and a
// host that refuses most requests is shed locally.
//
// [New] returns a [*Throttle], a stage for pipeline.New that also works
// alone through [Throttle.Wrap]. See [Throttle] for the algorithm. The
// transport Wrap returns:
//
//   - keeps one state per host, by default the request URL's scheme and
//     host:port ("https://api.example.com:443"); Config.Key changes the
//     keying (for example to one quota per API key);
//   - either sends the request to the next transport unmodified, possibly
//     after a wait, and returns its response and error untouched, or
//     refuses it without any network I/O: it closes the request body, as
//     the RoundTripper contract requires, and returns a nil response and an
//     [*Error] that matches [ErrThrottled] with [errors.Is] and implements
//     [idempotency.Rejection] (RetryAfter: when the request could have
//     gone, 0 if unknown);
//   - returns ctx.Err() untouched when the request's context ends during a
//     wait, and leaves nothing running;
//   - never sends a spare copy (a hedge of an enclosing hedge stage sent
//     while another attempt of its request is still in flight) that would
//     have to wait, nor one to a host that answered throttled or asked
//     for a pause within [HedgeHoldoff]; a hedge that stands in for a
//     failed attempt, and every retry inside it, waits like an original;
//   - never reads, closes or drains a response body, never retries, and
//     never modifies the request;
//   - departs from a plain RoundTripper in one way: it reads each
//     response's status (through Config.Classifier) and rate-limit headers,
//     to learn what the host allows.
//
// # Pushback dialects
//
// A response closes its host's gate for the pause it asks for, capped at
// Config.MaxPause; a pause in the past or of zero is none:
//
//   - retry-after-ms (Anthropic, Azure, OpenAI), then Retry-After
//     (delay-seconds or HTTP-date, see [idempotency.ParseRetryAfter]), on a
//     response the classifier calls Throttled or Transient (any retryable
//     status: 429, 503, a 403 with rate-limit headers, ...);
//   - otherwise, on any status, a rate-limit header with nothing left and a
//     reset: the IETF draft's RateLimit "name";r=0;t=N (structured fields,
//     RFC 8941; a malformed field is ignored whole), X-RateLimit-Remaining:
//     0 with X-RateLimit-Reset (GitHub), or OpenAI's
//     x-ratelimit-remaining-requests (or -tokens): 0 with its Go-duration
//     reset ("6m0s").
//
// Retry-After takes precedence over the reset fields, as the IETF draft
// asks. X-RateLimit-Reset is read by magnitude, since servers send a delay
// or a Unix time and never say which: a value closer to the current Unix
// time (in milliseconds, then in seconds) than to zero is a Unix time in
// that unit, anything smaller a delay in seconds. Today the line between a
// delay and a date falls at about 28 years, nonsense either way. Unix times
// are compared with the local clock. Rate-limit headers on a response
// served from a cache (Age above 0) are stale and ignored; trailers are
// never read.
//
// # Adaptive throttling: what counts as a refusal
//
// Adaptive throttling (see [Throttle]) counts, per host, the requests sent
// and those the host accepted. The host accepted a request when it answered
// with a status the classifier (Config.Classifier) calls a success, a final
// answer or fatal: 2xx and 3xx, 4xx other than 408, 425 and 429 (and a 403
// without rate-limit headers), 501, 505. Everything else counts as not
// accepted: a throttled answer (429, a rate-limiting 403), a transient one
// (408, 425, 500, 502, 503, 504), and any transport error, timeouts
// included (a connection refused or reset, a response that did not come
// before the request's deadline or an enclosing retry stage's
// AttemptTimeout). So a host that is slow or failing
// sheds load locally as much as one that answers 429: once more than half
// of its recent requests fail (with K = 2), the throttle refuses some
// locally, at once, with Reason Adaptive. That is the SRE book's intent (an
// overloaded backend shows as errors as often as in refusals); set K
// negative to keep adaptive throttling out of a client whose breaker
// already handles failing hosts. Not counted at all: a response asking for
// a pause (the gate handles it), a request the caller canceled, and one an
// inner stage refused (an open breaker: the host said nothing).
//
// # Pacing
//
// A host's token bucket runs at the lowest of: Config.Rate (or
// Config.HostRate), the rate its headers announce, and the rate AIMD
// learned. RateLimit-Policy "name";q=Q;w=W announces Q requests per W
// seconds (the most restrictive request-counting policy wins), and
// X-RateLimit-Limit or x-ratelimit-limit-requests announce a limit whose
// window is taken as the longest reset the host has sent, less a second
// when it is in whole seconds (servers round up), and at least a second.
// Every remaining count then caps the bucket's tokens at what
// remains less a tenth of the quota: the client spends what is left at the
// announced rate instead of in a burst, and does not drive the server's
// count to zero itself (a count of zero closes the gate until the reset,
// which servers round up to whole seconds). When such a pause ends, the
// bucket holds what the host then allows: a fixed window's whole quota
// (the highest remaining count it has sent, plus one), less the reserve.
//
// A host that throttles without saying its quota (a bare 429, as nginx's
// limit_req sends, or a 429 with only Retry-After) is paced by AIMD, as TCP
// paces a path: the first 429 cuts the rate the client was sending at by
// [AIMDFirstDecrease], later ones cut the rate by [AIMDDecrease] (by
// [AIMDBareDecrease] when the 429 asked for no pause and came after a
// second's worth of successes at the current rate), or halve it
// ([AIMDBackoff]) when more requests were throttled than succeeded since
// the last cut, and a burst of 429s costs one cut, not one per 429. When
// the host's pauses (Retry-After) took most of the time since the last cut,
// the cut goes down to what got through in the last second, at most
// halving: such a host refills while its clients wait, and what it lets
// through between pauses is what it admits. While the pacing holds
// requests back and they succeed, the rate grows, never for the time the
// host was paused: slowly ([AIMDIncrease]) near the rate of the last cut,
// where the host's limit probably is, and quickly ([AIMDFastIncrease])
// elsewhere, so a one-off 429 costs seconds, not minutes. A client thus
// meets a header-less upstream at about its rate instead of probing it
// with 429s all day.
//
// A bare 429 (no pause asked, no quota fields) to a request that was alone
// in flight to its host starts no pacing, unless the host refused most of
// the last second's requests (at least five): a client sending one request
// at a time cannot burst, and a flaky upstream that answers a share of
// requests with a bare 429 at random is no quota. AIMD cannot tell such
// refusals from a quota's, and cut at each: with a fifth refused, the rate
// spiralled down to about one request a second. The retry stage answers
// random failures. Once the pacing has started, every 429 counts.
//
// # Order in a pipeline
//
// Put the throttle where every attempt passes through it and inside the
// retry stage: pipeline.New(hedge, retry, throttle, breaker). Then hedges
// and retries are throttled like originals (a hedge only when there is
// spare capacity), a retry after a 429 waits at the gate instead of
// sending into the pause, and the breaker below sees only requests that
// were actually sent. The pipeline package documents the other orders.
//
// # A fleet of processes
//
// A quota belongs to an API key, not to a process: N processes that each
// pace themselves at the quota send N times it. Config.Shared shares each
// host's quota schedule and pushback gate through a store that every
// process reaches (the nested module github.com/tailguard/tailguard/redisstate
// implements it on Redis): then a pause one process receives closes the
// gate in all of them, and together they send the quota. A store that
// fails or is slow never fails a request: the throttle uses its local
// state for that request and logs the outage once through Config.Logger.
// See [Shared].
//
// # Hooks and statistics
//
// [Throttle.Stats] counts admissions, waits and rejections by [Reason];
// Config.OnThrottle reports each delayed or rejected request ([Event]);
// [Throttle.Snapshot] lists each host's pause and pace.
package throttle
