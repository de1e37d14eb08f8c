package hedge

import (
	"net/http"
	"time"
)

// Reason says why a hedge fired.
type Reason uint8

const (
	// ReasonDelay means the hedge's delay elapsed with no attempt won.
	ReasonDelay Reason = iota
	// ReasonFailure means an attempt failed with a transient or throttled
	// response or a transport error, or, with [Config.Replicas], an inner
	// stage refused it for its replica: either fires the next hedge at
	// once.
	ReasonFailure
)

// String returns "delay" or "failure".
func (r Reason) String() string {
	if r == ReasonFailure {
		return "failure"
	}
	return "delay"
}

// HedgeInfo describes a hedge as it fires, for [Config.OnHedge].
//
// OnHedge is called once per hedge sent (never for a hedge the budget
// denied or whose body could not be produced again), on the hedge's own
// goroutine, just before the hedge is handed to the transport. It is never
// called while the stage holds a lock, but it delays the hedge, so keep it
// short. Calls for different requests, and for successive hedges of one
// request, may run concurrently. A panic in it decides the race and is
// raised again on the caller's goroutine. A [Middleware] calls it on the
// ServeHTTP goroutine.
type HedgeInfo struct {
	// Request is the caller's request. It must not be modified.
	Request *http.Request
	// Attempt is the hedge's copy number, as [CopyFrom] reports it in its
	// request's context: 2 for the first hedge.
	Attempt int
	// Elapsed is the time since the request started.
	Elapsed time.Duration
	// Reason says why the hedge fired.
	Reason Reason
	// Replica is the replica the hedge is sent to, as listed in
	// [Replicas.Addrs]; empty when it goes to the request's own URL
	// (without Replicas, or for a request to no listed replica).
	Replica string
}

// CompleteInfo describes a decided race, for [Config.OnComplete].
//
// OnComplete is called once per request the stage may hedge (never for a
// pass-through), after the winner is chosen, on the caller's goroutine,
// before RoundTrip returns (or raises a panic that decided the race). It is
// never called while the stage holds a lock; calls for different requests
// may run concurrently. A [Middleware] calls it on the ServeHTTP goroutine
// once the answer is written (see [Middleware] for what the fields mean
// there).
type CompleteInfo struct {
	// Request is the caller's request. It must not be modified.
	Request *http.Request
	// Winner is the copy number ([CopyFrom]) of the winning attempt (1
	// for the original), or 0 when no attempt won: every attempt failed,
	// or the caller's context ended.
	Winner int
	// Sent is how many attempts were sent, the original included.
	Sent int
	// Duration is the time from the start of the request to the decision.
	Duration time.Duration
	// StatusCode is the status of the response returned, 0 if an error is.
	StatusCode int
	// Err is the error returned, nil if a response is. When a panic
	// decided the race it says which attempt panicked, and with what.
	Err error
}
