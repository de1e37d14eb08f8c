package budget

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want settings
	}{
		{"zero", Config{}, settings{ratio: 0.2, floor: 10, window: time.Second, maxTokens: 10}},
		{"ratio only", Config{Ratio: 0.5}, settings{ratio: 0.5, floor: 10, window: time.Second, maxTokens: 10}},
		{"floor only", Config{MinPerSecond: 1}, settings{ratio: 0.2, floor: 1, window: time.Second, maxTokens: 10}},
		{"window scales floor", Config{Window: time.Minute}, settings{ratio: 0.2, floor: 600, window: time.Minute, maxTokens: 10}},
		{"tokens only", Config{MaxTokens: 100}, settings{ratio: 0.2, floor: 10, window: time.Second, maxTokens: 100}},
		{"all set", Config{Ratio: 1, MinPerSecond: 2, Window: 500 * time.Millisecond, MaxTokens: 1}, settings{ratio: 1, floor: 1, window: 500 * time.Millisecond, maxTokens: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.cfg.normalize())
		})
	}
}

func TestConfigDefaultConstants(t *testing.T) {
	// docs/budget.md and the field docs quote these: Finagle's ratio and
	// floor, over one second; gRPC's tokens.
	assert.Equal(t, 0.2, DefaultRatio)
	assert.Equal(t, 10.0, DefaultMinPerSecond)
	assert.Equal(t, time.Second, DefaultWindow)
	assert.Equal(t, 10, DefaultMaxTokens)
}

func TestConfigInvalidPanics(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ratio above one", Config{Ratio: 1.5}, "budget: Ratio must be in [0, 1], got 1.5"},
		{"ratio negative", Config{Ratio: -0.1}, "budget: Ratio must be in [0, 1], got -0.1"},
		{"ratio NaN", Config{Ratio: math.NaN()}, "budget: Ratio must be in [0, 1], got NaN"},
		{"ratio +Inf", Config{Ratio: math.Inf(1)}, "budget: Ratio must be in [0, 1], got +Inf"},
		{"floor negative", Config{MinPerSecond: -1}, "budget: MinPerSecond must be finite and non-negative, got -1"},
		{"floor NaN", Config{MinPerSecond: math.NaN()}, "budget: MinPerSecond must be finite and non-negative, got NaN"},
		{"floor +Inf", Config{MinPerSecond: math.Inf(1)}, "budget: MinPerSecond must be finite and non-negative, got +Inf"},
		{"floor -Inf", Config{MinPerSecond: math.Inf(-1)}, "budget: MinPerSecond must be finite and non-negative, got -Inf"},
		{"window negative", Config{Window: -time.Second}, "budget: Window must be non-negative, got -1s"},
		{"tokens negative", Config{MaxTokens: -1}, "budget: MaxTokens must be between 1 and 1000 (or 0 for 10), got -1"},
		{"tokens above gRPC's limit", Config{MaxTokens: 1001}, "budget: MaxTokens must be between 1 and 1000 (or 0 for 10), got 1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.PanicsWithValue(t, tt.want, func() { New(tt.cfg) })
		})
	}
}
