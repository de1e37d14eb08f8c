package throttle

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tailguard/tailguard/idempotency"
)

func TestErrorContract(t *testing.T) {
	until := time.Now().Add(4200 * time.Millisecond)
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Host: "https://a:443", Reason: Gate, Until: until}, "throttle: gate closed for https://a:443, could go in 4.2s"},
		{&Error{Host: "h", Reason: Gate}, "throttle: gate closed for h"},
		{&Error{Host: "h", Reason: Pace, Until: until}, "throttle: pace exceeded for h, could go in 4.2s"},
		{&Error{Host: "h", Reason: Adaptive}, "throttle: rejected locally (adaptive throttling) for h"},
		{&Error{Host: "h", Reason: Concurrency}, "throttle: too many requests in flight to h"},
		{&Error{Host: "h", Reason: 9}, "throttle: Reason(9) for h"},
	}
	for _, tt := range tests {
		if tt.err.Until.IsZero() {
			assert.Equal(t, tt.want, tt.err.Error())
		} else {
			// The hint counts down from when the test built the error.
			assert.Contains(t, tt.err.Error(), tt.want[:len(tt.want)-len("4.2s")])
		}
		wrapped := fmt.Errorf("call: %w", tt.err)
		assert.ErrorIs(t, wrapped, ErrThrottled)
		rej, ok := idempotency.AsRejection(wrapped)
		assert.True(t, ok, "an idempotency.Rejection")
		assert.True(t, rej.Rejected())
	}
	assert.InDelta(t, 4.2, (&Error{Until: until}).RetryAfter().Seconds(), 0.1)
	assert.Zero(t, (&Error{}).RetryAfter(), "unknown")
	assert.Zero(t, (&Error{Until: time.Now().Add(-time.Second)}).RetryAfter(), "never negative")
	assert.False(t, errors.Is(errors.New("other"), ErrThrottled))
	assert.Equal(t, idempotency.Rejected, idempotency.Default.Classify(nil, nil, &Error{}).Kind)
	for r, name := range map[Reason]string{Gate: "gate", Pace: "pace", Adaptive: "adaptive", Concurrency: "concurrency", 0: "Reason(0)"} {
		assert.Equal(t, name, r.String())
	}
}
