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
	retryMarks := Marks(3, Mark{Budget: shared})
	hedgeMarks := Marks(2, Mark{Budget: other})
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
		{"retry without budget", WithRetry(base, &Marks(1, Mark{})[0]), shared, false},
		{"hedge outside retry", WithRetry(WithHedge(base, &hedgeMarks[0]), &retryMarks[1]), other, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantCharged, Charged(tt.ctx, tt.b))
		})
	}
}

func TestEnclosed(t *testing.T) {
	base := context.Background()
	client, server := Marks(2, Mark{}), Marks(2, Mark{Server: true})
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no stage", base, false},
		{"a retry's attempt", WithRetry(base, &client[0]), true},
		{"a hedge's original", WithHedge(base, &client[0]), true},
		{"a middleware's run", WithHedge(base, &server[1]), false},
		{"a retry under a middleware's run", WithRetry(WithHedge(base, &server[1]), &client[0]), true},
		{"a client hedge under a middleware's run", WithHedge(WithHedge(base, &server[1]), &client[0]), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Enclosed(tt.ctx), tt.name)
	}
	assert.Equal(t, []Mark{{N: 1, Server: true}, {N: 2, Server: true}}, server, "Marks numbers copies")
}

func TestInnermostMarkWins(t *testing.T) {
	ms := Marks(3, Mark{})
	ctx := WithRetry(WithRetry(context.Background(), &ms[0]), &ms[2])
	assert.Equal(t, 3, Retry(ctx).N)
	assert.Nil(t, Hedge(ctx))
	assert.Nil(t, Retry(context.Background()))
}

func BenchmarkWithRetry(b *testing.B) {
	ms := Marks(3, Mark{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = WithRetry(ctx, &ms[1])
	}
}
