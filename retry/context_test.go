package retry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/internal/attempt"
)

func TestAttemptFrom(t *testing.T) {
	ctx := context.Background()
	assert.Zero(t, AttemptFrom(ctx))
	marks := attempt.Marks(3, attempt.Mark{})
	assert.Equal(t, 2, AttemptFrom(attempt.WithRetry(ctx, &marks[1])))
	assert.Zero(t, AttemptFrom(attempt.WithHedge(ctx, &marks[1])), "a hedge mark is not a retry")
	inner := attempt.WithRetry(attempt.WithRetry(ctx, &marks[2]), &marks[0])
	assert.Equal(t, 1, AttemptFrom(inner), "the innermost retry stage")
	assert.Zero(t, testing.AllocsPerRun(100, func() { AttemptFrom(inner) }))
}
