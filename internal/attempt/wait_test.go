package attempt

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/internal/testkit"
)

// counter is a Waiter that counts what it was told.
type counter struct{ begun, ended int }

func (c *counter) WaitBegin() { c.begun++ }
func (c *counter) WaitEnd()   { c.ended++ }

func TestWaiter(t *testing.T) {
	base := context.Background()
	assert.Nil(t, WaiterFrom(base))
	WaitBegin(base) // nobody listens: nothing happens
	WaitEnd(base)

	outer, inner := &counter{}, &counter{}
	ctx := WithWaiter(WithWaiter(base, outer), inner)
	assert.Same(t, inner, WaiterFrom(ctx), "the innermost listener hears")
	WaitBegin(ctx)
	WaitEnd(ctx)
	assert.Equal(t, counter{1, 1}, *inner)
	assert.Equal(t, counter{}, *outer, "forwarding is the listener's own job")
}

func TestWaitAllocs(t *testing.T) {
	if testkit.RaceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	ctx := context.WithValue(context.Background(), HedgeKey{}, nil)
	assert.Zero(t, testing.AllocsPerRun(100, func() { WaitBegin(ctx); WaitEnd(ctx) }))
	heard := WithWaiter(ctx, &counter{})
	assert.Zero(t, testing.AllocsPerRun(100, func() { WaitBegin(heard); WaitEnd(heard) }))
}

func BenchmarkWaitUnheard(b *testing.B) {
	ctx := context.WithValue(context.Background(), HedgeKey{}, nil)
	b.ReportAllocs()
	for b.Loop() {
		WaitBegin(ctx)
		WaitEnd(ctx)
	}
}
