package decision

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/internal/attempt"
)

func TestAttemptOf(t *testing.T) {
	marks := attempt.Marks(3, nil)
	base := context.Background()
	tests := []struct {
		name   string
		ctx    context.Context
		want   Attempt
		number int
	}{
		{"no stage", base, Attempt{Kind: KindOriginal}, 1},
		{"first of a retry stage", attempt.WithRetry(base, &marks[0]), Attempt{Kind: KindOriginal, Retry: 1}, 1},
		{"a retry", attempt.WithRetry(base, &marks[2]), Attempt{Kind: KindRetry, Retry: 3}, 3},
		{"a hedge", attempt.WithHedge(base, &marks[1]), Attempt{Kind: KindHedge, Hedge: 2}, 2},
		{"a hedge's first try", attempt.WithRetry(attempt.WithHedge(base, &marks[1]), &marks[0]),
			Attempt{Kind: KindHedge, Retry: 1, Hedge: 2}, 1},
		{"a retry of a hedge", attempt.WithRetry(attempt.WithHedge(base, &marks[1]), &marks[1]),
			Attempt{Kind: KindRetry, Retry: 2, Hedge: 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := AttemptOf(tt.ctx)
			assert.Equal(t, tt.want, a)
			assert.Equal(t, tt.number, a.Number())
		})
	}
	ctx := attempt.WithRetry(base, &marks[1])
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = AttemptOf(ctx) }))
}
