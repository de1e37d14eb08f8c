package decision

import (
	"log/slog"

	"github.com/tailguard/tailguard/idempotency"
)

// Stage names the stage that decided: the value of the "stage" attribute.
type Stage string

// The stages, as they name themselves in every record.
const (
	StageHedge      Stage = "hedge"            // hedge.Hedger, the client stage
	StageMiddleware Stage = "hedge_middleware" // hedge.Middleware, the server side
	StageRetry      Stage = "retry"
	StageBreaker    Stage = "breaker"
	StageThrottle   Stage = "throttle"
)

// Name says what was decided: the value of the "event" attribute. Each
// name has one level ([Name.Level]) and one message ([Name.Message]).
type Name string

// The events. The package documentation's table says which stage records
// each, with which reasons and attributes.
const (
	// Hedge: a hedge was sent (Debug).
	Hedge Name = "hedge"
	// HedgeDenied: a hedge was due but not sent, which ends hedging for
	// the request (Debug).
	HedgeDenied Name = "hedge_denied"
	// HedgingStopped: the upstream asked for a pause, so no further hedge
	// of the request is sent (Debug).
	HedgingStopped Name = "hedging_stopped"
	// HedgeWon: a hedge's answer won the race and is returned, the
	// original's abandoned (Debug). Recorded in every order, also where
	// the hedge stage records no Outcome.
	HedgeWon Name = "hedge_won"
	// Retry: a failed attempt is retried, now that Wait has passed
	// (Debug). A wait the caller cuts short records no Retry.
	Retry Name = "retry"
	// NotRetried: an attempt's outcome is not one a retry could change (a
	// final 404, a fatal error, an inner stage's refusal), so it is
	// returned (Debug).
	NotRetried Name = "not_retried"
	// GaveUp: an attempt failed in a way a retry might have fixed, but the
	// stage may not retry it (Warn).
	GaveUp Name = "gave_up"
	// Rejected: the stage refused the request without sending it (Debug;
	// the state change that causes refusals is logged at Info).
	Rejected Name = "rejected"
	// Throttled: the request waited before it was sent (Debug).
	Throttled Name = "throttled"
	// Paused: a response closed its host's gate for Wait (Info).
	Paused Name = "paused"
	// StateChange: a breaker key changed state (Info).
	StateChange Name = "state_change"
	// SharedUnavailable: the store a stage shares state through failed;
	// the stage uses its local state until it answers (Warn, once per
	// outage).
	SharedUnavailable Name = "shared_unavailable"
	// SharedResumed: the store answers again (Info).
	SharedResumed Name = "shared_resumed"
	// Outcome: what the pipeline returns for a logical request (Debug),
	// recorded once, by the outermost stage that records outcomes; see
	// the package documentation's "Outcomes".
	Outcome Name = "outcome"
	// PanicDropped: a panic came after the request was decided, with no
	// caller left to receive it (a hedge that had already lost), and was
	// dropped; Err holds its value and stack (Warn).
	PanicDropped Name = "panic_dropped"
)

// Level returns the level n is logged at: Info for a state change (a
// breaker's transition, a host's pause, a shared store returning), Warn
// for a give-up (a retry the stage wanted but could not make, a shared
// store lost), Debug for every routine decision.
func (n Name) Level() slog.Level {
	switch n {
	case StateChange, Paused, SharedResumed:
		return slog.LevelInfo
	case GaveUp, SharedUnavailable, PanicDropped:
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// Message returns the record's message for n: a few words for people; the
// "event" attribute is the stable name to match on.
func (n Name) Message() string {
	switch n {
	case Hedge:
		return "hedge sent"
	case HedgeDenied:
		return "hedge not sent"
	case HedgingStopped:
		return "hedging stopped"
	case HedgeWon:
		return "hedge won"
	case Retry:
		return "retrying"
	case NotRetried:
		return "not retried"
	case GaveUp:
		return "gave up retrying"
	case Rejected:
		return "refused unsent"
	case Throttled:
		return "delayed"
	case Paused:
		return "host paused"
	case StateChange:
		return "breaker state changed"
	case SharedUnavailable:
		return "shared state unavailable; using local state until it answers"
	case SharedResumed:
		return "shared state answering again; sharing resumed"
	case Outcome:
		return "request done"
	case PanicDropped:
		return "panic after the decision dropped"
	}
	return string(n)
}

// Reason says why: the value of the "reason" attribute.
type Reason string

// The reasons.
const (
	// Why a hedge was sent.
	ReasonDelay   Reason = "delay"   // its delay elapsed with no attempt won
	ReasonFailure Reason = "failure" // an attempt failed transiently: the next hedge goes at once

	// Why a hedge was not sent, or a retry not made.
	ReasonBudget  Reason = "budget"  // the budget refused the extra attempt
	ReasonBody    Reason = "body"    // the request body could not be produced again (GetBody failed)
	ReasonReplica Reason = "replica" // hedge.Replicas.Pick chose no replica for it

	// Why hedging stopped, or a host was paused.
	ReasonPushback Reason = "pushback" // the upstream asked for a pause (Retry-After, rate-limit headers)

	// Where a retry's wait came from.
	ReasonBackoff    Reason = "backoff"     // a jittered backoff draw
	ReasonRetryAfter Reason = "retry_after" // the upstream's Retry-After

	// Why a retry was given up on.
	ReasonNotReplayable     Reason = "not_replayable"       // e.g. POST without Idempotency-Key: it may not be sent twice
	ReasonAttemptsExhausted Reason = "attempts_exhausted"   // MaxAttempts reached
	ReasonDeadline          Reason = "deadline"             // the wait would end past the context's deadline
	ReasonRetryAfterTooLong Reason = "retry_after_too_long" // Retry-After above MaxRetryAfter

	// Why a retry was not needed: an enclosing hedge re-sent the failed try
	// at once, and that hedge is its retry (hedge(retry(...)) order).
	ReasonHedgeResent Reason = "hedge_resent"

	// Why a breaker refused a request.
	ReasonOpen     Reason = "open"      // the key is open
	ReasonHalfOpen Reason = "half_open" // the key is half-open and every probe slot is taken

	// Why a throttle delayed or refused a request.
	ReasonGate        Reason = "gate"        // the host's gate is closed, or its probe in flight
	ReasonPace        Reason = "pace"        // the host's token bucket is empty
	ReasonAdaptive    Reason = "adaptive"    // adaptive throttling refused it locally
	ReasonConcurrency Reason = "concurrency" // MaxConcurrent requests are in flight

	// Why a breaker key opened, or a host was paused, on another process's
	// word: a quorum of the processes calling the key reported it open
	// (breaker.Fleet), or the fleet's shared gate is closed (throttle.Shared).
	ReasonFleet Reason = "fleet"

	// Why a breaker key changed state.
	ReasonFailures        Reason = "failures"         // closed → open: a tripping rule was met
	ReasonOpenTimeout     Reason = "open_timeout"     // open → half-open: the open period ended
	ReasonProbeFailed     Reason = "probe_failed"     // half-open → open
	ReasonProbesSucceeded Reason = "probes_succeeded" // half-open → closed
)

// KindReason returns the reason naming an outcome kind ("success",
// "final", "transient", "throttled", "canceled", "fatal", "rejected"), the
// reason of an [Outcome] and of a [NotRetried] event. It does not allocate.
func KindReason(k idempotency.Kind) Reason { return Reason(k.String()) }
