package retry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/httpx"
)

func TestZeroConfigDefaults(t *testing.T) {
	s := Config{}.normalize()
	assert.Equal(t, 3, s.maxAttempts)
	assert.Equal(t, 25*time.Millisecond, s.baseDelay)
	assert.Equal(t, 10*time.Second, s.maxDelay)
	assert.Equal(t, 30*time.Second, s.maxRetryAfter)
	assert.Zero(t, s.attemptTimeout)
	assert.NotNil(t, s.budget)
	assert.Equal(t, idempotency.Default, s.classifier)
	assert.EqualValues(t, httpx.DefaultMaxBufferedBody, s.maxBufferedBody)

	// FullJitter: envelope 100 ms, draws in [0, 100 ms], not all equal.
	b := s.jitter(s.baseDelay, s.maxDelay)
	seen := map[time.Duration]bool{}
	for range 20 {
		b.Reset()
		d := b.NextBackOff()
		assert.LessOrEqual(t, d, 100*time.Millisecond)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 1, "the default jitters")
}

func TestDefaultsMatchConstants(t *testing.T) {
	assert.Equal(t, 3, DefaultMaxAttempts)
	assert.Equal(t, 10, MaxAttemptsLimit)
	assert.Equal(t, 25*time.Millisecond, DefaultBaseDelay)
	assert.Equal(t, 10*time.Second, DefaultMaxDelay)
	assert.Equal(t, 30*time.Second, DefaultMaxRetryAfter)
}

func TestPrivateBudgets(t *testing.T) {
	a, b := New(Config{}), New(Config{})
	assert.NotSame(t, a.cfg.budget, b.cfg.budget, "nil Budget means a private one per Retrier")
	shared := budget.New(budget.Config{})
	assert.Same(t, shared, New(Config{Budget: shared}).cfg.budget)
}

func TestConfigValues(t *testing.T) {
	s := Config{MaxAttempts: 10, BaseDelay: time.Second, MaxDelay: time.Second, MaxRetryAfter: time.Minute,
		AttemptTimeout: time.Second, MaxBufferedBody: 7}.normalize()
	assert.Equal(t, 10, s.maxAttempts)
	assert.Equal(t, time.Second, s.baseDelay)
	assert.Equal(t, time.Second, s.maxDelay)
	assert.Equal(t, time.Minute, s.maxRetryAfter)
	assert.Equal(t, time.Second, s.attemptTimeout)
	assert.EqualValues(t, 7, s.maxBufferedBody)
	assert.Len(t, New(Config{MaxAttempts: 10}).marks, 10)
}

func TestInvalidConfigPanics(t *testing.T) {
	tests := []struct {
		cfg Config
		msg string
	}{
		{Config{MaxAttempts: 11}, "retry: MaxAttempts must be between 1 and 10, got 11"},
		{Config{MaxAttempts: -1}, "retry: MaxAttempts must be between 1 and 10, got -1"},
		{Config{BaseDelay: -1}, "retry: BaseDelay must not be negative, got -1ns"},
		{Config{MaxDelay: -1}, "retry: MaxDelay must not be negative, got -1ns"},
		{Config{BaseDelay: time.Minute}, "retry: MaxDelay (10s) must be at least BaseDelay (1m0s)"},
		{Config{MaxDelay: time.Millisecond}, "retry: MaxDelay (1ms) must be at least BaseDelay (25ms)"},
		{Config{MaxRetryAfter: -time.Second}, "retry: MaxRetryAfter must not be negative, got -1s"},
		{Config{AttemptTimeout: -time.Second}, "retry: AttemptTimeout must not be negative, got -1s"},
		{Config{MaxBufferedBody: -1}, "retry: MaxBufferedBody must not be negative, got -1"},
	}
	for _, tc := range tests {
		t.Run(tc.msg, func(t *testing.T) {
			assert.PanicsWithValue(t, tc.msg, func() { New(tc.cfg) })
		})
	}
}
