// Package httpx holds the HTTP hygiene every tailguard stage shares, written
// once: making a request body replayable, cloning a request per attempt,
// draining and closing discarded responses, and keeping an attempt's context
// alive until the caller is done with the winning body.
//
// # Contract
//
//   - The caller's *http.Request is never mutated. [Replayable] and [Attempt]
//     return shallow clones; headers are shared read-only, as the
//     [http.RoundTripper] contract already forbids transports to change them.
//   - A body without GetBody is buffered at most up to a limit
//     ([DefaultMaxBufferedBody]); above it the request is marked not replayable
//     and is sent once, whole, never truncated.
//   - The caller's body is closed exactly once: by the transport that sends it,
//     or here after it has been fully buffered.
//   - [Drain] reads at most [DrainLimit] bytes of a response body, for at most
//     [DrainTimeout], before closing it, so keep-alive connections are reused
//     without letting a huge, endless or stalled error body hold anyone up;
//     [Discard] does it on a goroutine of its own, off the caller's path. A
//     101 Switching Protocols body is closed, never read.
//   - [GateTrace] lets a caller's httptrace.ClientTrace see one attempt at a
//     time, and none after the stage moved past it.
package httpx
