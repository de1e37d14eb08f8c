package attempt

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// sparer is a Feedback that answers Spare with a fixed value.
type sparer struct {
	recorder
	spare bool
}

func (s *sparer) Spare() bool { return s.spare }

func TestSpare(t *testing.T) {
	ms := Marks(2, Mark{})
	base := context.Background()
	first, second := WithHedge(base, &ms[0]), WithHedge(base, &ms[1])
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no hedge stage", base, false},
		{"no hedge stage, a race says spare", WithFeedback(base, &sparer{spare: true}), false},
		{"the original", first, false},
		{"the original, a race says spare", WithFeedback(first, &sparer{spare: true}), false},
		{"a hedge, nobody tells", second, true},
		{"a hedge, a race that cannot tell", WithFeedback(second, &recorder{}), true},
		{"a hedge racing a live attempt", WithFeedback(second, &sparer{spare: true}), true},
		{"a hedge standing in for a failed attempt", WithFeedback(second, &sparer{spare: false}), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Spare(tt.ctx), tt.name)
	}
}
