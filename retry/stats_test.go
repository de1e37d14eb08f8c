package retry

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCountersStop(t *testing.T) {
	var c counters
	for _, r := range []stopReason{stopNone, stopPolicy, stopExhausted, stopBudget, stopBudget, stopDeadline, stopTooLong} {
		c.stop(r)
	}
	c.requests.Add(4)
	c.retries.Add(2)
	assert.Equal(t, Stats{Requests: 4, Retries: 2, Exhausted: 1, BudgetDenied: 2, DeadlineStops: 1, ThrottleStops: 1}, c.load())
}
