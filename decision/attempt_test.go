package decision

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
)

func TestAttemptOf(t *testing.T) {
	marks := attempt.Marks(3, attempt.Mark{})
	server := attempt.Marks(2, attempt.Mark{Server: true})
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
		{"sent by a handler in a middleware's hedge run", attempt.WithHedge(base, &server[1]),
			Attempt{Kind: KindOriginal}, 1},
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

func TestClassifierOf(t *testing.T) {
	retrying := idempotency.WithStatus(nil, map[int]idempotency.Kind{409: idempotency.Transient})
	hedging := idempotency.WithStatus(nil, map[int]idempotency.Kind{409: idempotency.Throttled})
	retryMarks := attempt.Marks(2, attempt.Mark{Classifier: retrying})
	hedgeMarks := attempt.Marks(2, attempt.Mark{Classifier: hedging})
	serverMarks := attempt.Marks(2, attempt.Mark{Classifier: hedging, Server: true})
	base := context.Background()
	tests := []struct {
		name string
		ctx  context.Context
		want idempotency.Kind
	}{
		{"no stage", base, idempotency.Final},
		{"a retry stage's", attempt.WithRetry(base, &retryMarks[0]), idempotency.Transient},
		{"a hedge stage's", attempt.WithHedge(base, &hedgeMarks[1]), idempotency.Throttled},
		{"the retry stage's in either order", attempt.WithHedge(attempt.WithRetry(base, &retryMarks[1]), &hedgeMarks[0]),
			idempotency.Transient},
		{"a stage without one", attempt.WithRetry(base, &attempt.Marks(1, attempt.Mark{})[0]), idempotency.Final},
		{"not a middleware's", attempt.WithHedge(base, &serverMarks[1]), idempotency.Final},
	}
	conflict := &http.Response{StatusCode: 409, Header: http.Header{}}
	for _, tt := range tests {
		got := ClassifierOf(tt.ctx).Classify(nil, conflict, nil).Kind
		assert.Equal(t, tt.want, got, tt.name)
	}
	ctx := attempt.WithRetry(base, &retryMarks[1])
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = ClassifierOf(ctx) }))
}
