// Package hedge sends backup copies of slow HTTP requests and returns
// whichever copy answers first: the hedged requests of Dean and Barroso's
// "The Tail at Scale" (CACM, 2013), as an [http.RoundTripper] stage.
//
// [New] builds a [Hedger] from a [Config]; [Hedger.Wrap] puts it over a
// transport, alone or as a stage of a tailguard pipeline. The zero Config
// hedges once, at each host's observed p95 latency, under a budget of 20%
// extra requests.
//
// # Contract
//
// A hedge stage:
//
//   - sends more than once only requests its [idempotency.Classifier] calls
//     replayable, and not those [Config.Skip] excludes; every other request
//     passes straight through, untouched;
//   - never mutates the caller's request: each attempt is a clone with its
//     own context and its own copy of the body, so no two attempts share a
//     reader (hedgedhttp's shared body truncated uploads);
//   - interprets outcomes, which a RoundTripper normally does not: a
//     success or final client error wins, a transient failure (a 503, a
//     connection reset) never beats an attempt still pending, and an inner
//     stage's rejection never cancels one;
//   - returns exactly one result, a response or an error, and drains and
//     closes every other response, including those arriving after it
//     returned;
//   - cancels losing attempts at once, and keeps the winner's context
//     alive until the caller closes the response body;
//   - returns the caller's context error, untouched, if that context ends
//     before an attempt wins;
//   - leaves no goroutine, timer or connection behind once the losers'
//     transports have returned;
//   - raises a panic of the transport, classifier or hooks on the caller's
//     goroutine, having settled the race, never on a goroutine of its own.
//
// The transport it wraps must return promptly once a request's context is
// canceled (net/http's does): the original attempt runs on the caller's
// goroutine, and RoundTrip returns only after it has.
//
// # Choosing a mode
//
// Fixed hedging ([Config.Delay]) suits an upstream whose latency is known
// and stable. A schedule ([Config.Delays], usually built by [SLO]) hedges
// against a latency objective: SLO(time.Second, 0.95) sends one hedge at
// 950 ms, SLO(time.Second, 0.5, 0.75, 0.95) three. Adaptive hedging
// ([Config.Quantile], the default) follows each host's recent latency
// distribution and needs no tuning; until it has seen enough latencies it
// hedges at [Config.WarmupDelay].
//
// # Replicas
//
// With [Config.Replicas] listing the replicas of a service, a request to
// one of them sends its hedges to the others, as the Tail at Scale's
// hedged requests do, rather than to the replica whose stall they are
// meant to escape: a hedge only ever goes to a listed replica, the
// original keeps its URL, and each replica keeps its own adaptive delay
// and, in inner stages keyed by URL, its own breaker. Credentials
// (Authorization, Cookie, Proxy-Authorization) reach listed replicas only:
// a stage with Replicas removes them from requests to any other host,
// redirects included. See [Replicas] for the Host header and TLS server
// name rule.
//
// # Inner stages
//
// Inner stages and base transports learn which copy of the request they
// are sending from [CopyFrom] (1 for the original, 2 and up for hedges) and
// [IsHedge]; a retry stage's retry.AttemptFrom counts something else, its
// tries in sequence. A retry stage sharing [Config.Budget]
// sees the hedge stage's mark and does not count the request twice. A retry
// stage inside that waits out a server's Retry-After tells the hedge stage,
// which then sends no further hedges for that request. While an inner
// stage holds an attempt back locally before sending it (a throttle's pace
// turn, say), the hedge delay does not run: it resumes when the request
// goes, and the wait is not taken for the upstream's latency.
//
// # Statistics and hooks
//
// [Hedger.Stats] returns cumulative counters; [Config.OnHedge] and
// [Config.OnComplete] report each hedge and each decided race.
//
// # Server side
//
// [NewMiddleware] builds a [Middleware], the same policy inside a server:
// [Middleware.Handler] returns an [http.Handler] that runs the handler again
// when a run is slow, each run into its own buffered response, and writes
// the first good answer to the client. It shares [Config] (embedded in
// [MiddlewareConfig], which adds a Timeout and caps on the buffered
// request and response bodies), the
// schedules, the budget rules, [Stats] and the hooks; handlers tell their
// run by [CopyFrom] and [IsHedge], and a losing run's context is
// canceled with cause [ErrLostRace]. A middleware departs from the client
// stage where a server must: requests that announce a streaming response
// are never hedged, and handlers must return once their request's context
// is done, since a losing run finishes after the client was answered.
package hedge
