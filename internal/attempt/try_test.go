package attempt

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/idempotency"
)

func TestTries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := context.Background()
		start := StartTry(base)
		assert.True(t, start.IsZero(), "nobody listens")
		EndTry(base, start, idempotency.Success) // and nothing happens

		rec := &recorder{}
		ctx := WithFeedback(base, rec)
		t0 := time.Now()
		start = StartTry(ctx)
		time.Sleep(5 * time.Millisecond)
		assert.False(t, EndTry(ctx, start, idempotency.Transient), "a plain Feedback re-sends nothing")
		assert.False(t, EndTry(ctx, time.Time{}, idempotency.Success)) // a try StartTry did not report
		assert.Equal(t, []Report{
			{TryStart: t0},
			{TryStart: t0, TryEnd: t0.Add(5 * time.Millisecond), TryKind: idempotency.Transient},
		}, rec.got)
	})
}

// resender re-sends after every failed try.
type resender struct{ recorder }

func (r *resender) ReportTry(rep Report) bool {
	r.Report(rep)
	return rep.TryKind == idempotency.Transient
}

func TestTriesResent(t *testing.T) {
	rs := &resender{}
	ctx := WithFeedback(context.Background(), rs)
	assert.True(t, EndTry(ctx, StartTry(ctx), idempotency.Transient), "the race re-sent it")
	assert.False(t, EndTry(ctx, StartTry(ctx), idempotency.Success))
	assert.Len(t, rs.got, 4, "every start and end reported once")
}

func BenchmarkTryUnheard(b *testing.B) {
	ctx := context.WithValue(context.Background(), HedgeKey{}, nil)
	b.ReportAllocs()
	for b.Loop() {
		EndTry(ctx, StartTry(ctx), idempotency.Success)
	}
}
