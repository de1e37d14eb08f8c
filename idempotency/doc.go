// Package idempotency holds the one policy every tailguard stage shares:
// which HTTP requests may be sent more than once, what each attempt's
// result was (an [Outcome]: its [Kind], such as transient, throttled or
// final, and whether it provably never left the process), and how long a
// server's Retry-After asks to wait.
//
// It is named for the first of the three because that one decides whether
// the other two matter: a request that may not be sent twice is not,
// whatever its outcome (unless it provably never left; see "Never sent"). The outcome classification (see
// "Outcomes") and the Retry-After parsing (see "Retry-After") live here too
// because a classifier needs both: a 503 or 403 that asks for a pause is
// throttled, not transient or final.
//
// Every stage that could send a request twice asks a [Classifier] first, and
// every stage that reacts to a result asks the same Classifier what it was,
// so one policy governs the whole pipeline. [Default] implements the rules
// below; [WithStatus] adapts its status table to a particular API.
//
// The package only inspects: no function here reads, closes or modifies a
// request, a response, or their bodies, and nothing here holds mutable state,
// so every exported function, [Default] and the classifiers [WithStatus]
// returns are safe for concurrent use.
//
// # Replayable requests
//
// A request may be sent more than once ([Replayable]) when both hold:
//   - its method is idempotent per RFC 9110 §9.2.2 ([IdempotentMethod]:
//     GET, HEAD, OPTIONS, TRACE, PUT, DELETE), or it carries a non-blank
//     Idempotency-Key or X-Idempotency-Key header ([Key]);
//   - its body can be produced again ([BodyReplayable]): no body,
//     [http.NoBody], or a GetBody function.
//
// POST and PATCH without a key are never replayable: repeating them may
// charge a card twice. Peers that retry them by default (go-retryablehttp,
// failsafe-go) are the reason this package exists.
//
// # Outcomes
//
// [Classifier.Classify] maps one attempt to an [Outcome]: a [Kind] and
// whether the request was provably never sent. Responses are classified by
// [StatusKind], with two refinements: a 503 whose Retry-After asks for a
// pause (a positive delay) is [Throttled] rather than [Transient] (a
// Retry-After of 0 or a past date asks for none and is no throttle), and a
// 403 carrying such a Retry-After or X-RateLimit-Remaining: 0 is
// [Throttled] rather than [Final] (GitHub's secondary rate limits answer
// 403). Errors are examined in this order:
//  1. a [Rejection] (a stage refused the attempt locally) is [Rejected];
//  2. context.Canceled, in the error or in the request's context, is
//     [Canceled]: the caller gave up, which says nothing about the upstream;
//  3. TLS certificate errors, unsupported URL schemes and requests net/http
//     refuses as malformed are [Fatal];
//  4. everything else is [Transient]: resets, refusals, EOFs, timeouts
//     (context.DeadlineExceeded included), DNS failures and unknown errors.
//
// # Never sent
//
// A failure that provably happened before any byte reached the network
// ([NeverSent]: DNS errors, dial errors, a failure to reach the proxy, a
// [Rejection], a malformed request net/http refused to write) may be
// retried even for a request that is not replayable, as gRPC does with
// transparent retries. It is decided from error types and from where the
// error was raised, never from words a response error can share. A reset
// or EOF on an established connection is never counted as unsent: the
// server may have acted; nor is a protocol violation in the server's
// response (an HTTP/2 stream error about an invalid response header),
// which is [Transient].
//
// # Retry-After
//
// [ParseRetryAfter] implements RFC 9110 §10.2.3 strictly: delay-seconds is
// digits only, the HTTP-date form accepts every layout of [http.ParseTime],
// a past date means zero, and huge values clamp to the maximum
// [time.Duration] instead of overflowing. Callers cap the result.
package idempotency
