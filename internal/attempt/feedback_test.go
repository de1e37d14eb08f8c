package attempt

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// recorder is a Feedback that keeps what it was told.
type recorder struct{ got []Report }

func (r *recorder) Report(rep Report) { r.got = append(r.got, rep) }

func TestFeedback(t *testing.T) {
	outer, inner := &recorder{}, &recorder{}
	base := context.Background()
	assert.Nil(t, FeedbackFrom(base))
	Pause(base, time.Now().Add(time.Second)) // nobody listens: nothing happens

	ctx := WithFeedback(WithFeedback(base, outer), inner)
	assert.Same(t, inner, FeedbackFrom(ctx), "the innermost race listens")

	until := time.Now().Add(time.Second)
	Pause(ctx, until)
	Pause(ctx, time.Time{}) // no pause asked: not reported
	assert.Equal(t, []Report{{PauseUntil: until}}, inner.got)
	assert.Empty(t, outer.got)
}

// A context type of a stage's own answers FeedbackKey without WithValue.
type ownCtx struct {
	context.Context
	fb Feedback
}

func (c ownCtx) Value(key any) any {
	if _, ok := key.(FeedbackKey); ok {
		return c.fb
	}
	return c.Context.Value(key)
}

func TestFeedbackFromOwnContext(t *testing.T) {
	rec := &recorder{}
	ctx := context.WithValue(ownCtx{context.Background(), rec}, HedgeKey{}, nil)
	assert.Same(t, rec, FeedbackFrom(ctx))
}

func BenchmarkFeedbackFrom(b *testing.B) {
	ctx := WithFeedback(context.Background(), &recorder{})
	b.ReportAllocs()
	for b.Loop() {
		_ = FeedbackFrom(ctx)
	}
}
