package attempt

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/budget"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMarksAndCharged(t *testing.T) {
	shared, other := budget.New(budget.Config{}), budget.New(budget.Config{})
	retryMarks := Marks(3, shared)
	hedgeMarks := Marks(2, other)
	assert.Equal(t, 3, retryMarks[2].N)

	base := context.Background()
	tests := []struct {
		name        string
		ctx         context.Context
		b           *budget.Budget
		wantCharged bool
	}{
		{"no stage", base, shared, false},
		{"retry charged the same budget", WithRetry(base, &retryMarks[0]), shared, true},
		{"retry charged another budget", WithRetry(base, &retryMarks[0]), other, false},
		{"hedge charged the same budget", WithHedge(base, &hedgeMarks[1]), other, true},
		{"retry without budget", WithRetry(base, &Marks(1, nil)[0]), shared, false},
		{"hedge outside retry", WithRetry(WithHedge(base, &hedgeMarks[0]), &retryMarks[1]), other, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantCharged, Charged(tt.ctx, tt.b))
		})
	}
}

func TestInnermostMarkWins(t *testing.T) {
	ms := Marks(3, nil)
	ctx := WithRetry(WithRetry(context.Background(), &ms[0]), &ms[2])
	assert.Equal(t, 3, Retry(ctx).N)
	assert.Nil(t, Hedge(ctx))
	assert.Nil(t, Retry(context.Background()))
}

func BenchmarkWithRetry(b *testing.B) {
	ms := Marks(3, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = WithRetry(ctx, &ms[1])
	}
}
