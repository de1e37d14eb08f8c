package attempt

import (
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

// RecordOutcome tells b how an attempt fared, for its failure gate: a
// success or a final answer is a success; a transient or throttled failure
// (the outcomes a retry or a hedge is sent for) is a failure. A canceled,
// rejected or fatal outcome says nothing about the upstream's health and is
// recorded as neither. Only the stage that deposited the request into b
// records, so that each attempt counts once (see [Charged]).
func RecordOutcome(b *budget.Budget, k idempotency.Kind) {
	switch k {
	case idempotency.Success, idempotency.Final:
		b.RecordSuccess()
	case idempotency.Transient, idempotency.Throttled:
		b.RecordFailure()
	}
}
