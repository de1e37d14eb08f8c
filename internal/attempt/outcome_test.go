package attempt

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

func TestRecordOutcome(t *testing.T) {
	tests := []struct {
		kind                idempotency.Kind
		successes, failures uint64
	}{
		{idempotency.Success, 1, 0},
		{idempotency.Final, 1, 0},
		{idempotency.Transient, 0, 1},
		{idempotency.Throttled, 0, 1},
		{idempotency.Fatal, 0, 0},
		{idempotency.Canceled, 0, 0},
		{idempotency.Rejected, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			b := budget.New(budget.Config{})
			RecordOutcome(b, tt.kind)
			st := b.Stats()
			assert.Equal(t, tt.successes, st.Successes)
			assert.Equal(t, tt.failures, st.Failures)
		})
	}
}
