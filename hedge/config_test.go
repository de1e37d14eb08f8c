package hedge

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

func TestConfigModes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		cfg  Config
		want schedule
	}{
		{"zero is adaptive p95", Config{},
			schedule{mode: modeAdaptive, hedges: 1, quantile: 0.95, step: DefaultWarmupDelay, min: DefaultMinDelay, max: DefaultMaxDelay}},
		{"fixed", Config{Delay: 20 * ms, MaxHedges: 3}, schedule{mode: modeFixed, hedges: 3, step: 20 * ms}},
		{"fixed needs no other field", Config{Delay: 20 * ms}, schedule{mode: modeFixed, hedges: 1, step: 20 * ms}},
		{"quantile with warm-up delay", Config{Quantile: 0.9, WarmupDelay: 5 * ms},
			schedule{mode: modeAdaptive, hedges: 1, quantile: 0.9, step: 5 * ms, min: DefaultMinDelay, max: DefaultMaxDelay}},
		{"warm-up delay alone selects adaptive", Config{WarmupDelay: 5 * ms},
			schedule{mode: modeAdaptive, hedges: 1, quantile: 0.95, step: 5 * ms, min: DefaultMinDelay, max: DefaultMaxDelay}},
		{"clamp selects adaptive", Config{MaxDelay: time.Second},
			schedule{mode: modeAdaptive, hedges: 1, quantile: 0.95, step: DefaultWarmupDelay, min: DefaultMinDelay, max: time.Second}},
		{"schedule", Config{Delays: []time.Duration{ms, 3 * ms}},
			schedule{mode: modeSchedule, hedges: 2, delays: []time.Duration{ms, 3 * ms}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.cfg.normalize().sched)
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	s := Config{}.normalize()
	assert.Equal(t, idempotency.Default, s.classifier)
	if assert.NotNil(t, s.budget) {
		assert.Contains(t, s.budget.String(), "ratio=0.2 ")
	}
	b := budget.New(budget.Config{})
	assert.Same(t, b, Config{Budget: b}.normalize().budget)
}

func TestConfigDelaysAreCopied(t *testing.T) {
	ds := []time.Duration{time.Millisecond}
	s := Config{Delays: ds}.normalize()
	ds[0] = time.Hour
	assert.Equal(t, time.Millisecond, s.sched.delays[0])
}

func TestConfigPanics(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Delay: -1}, "hedge: Delay must not be negative, got -1ns"},
		{Config{WarmupDelay: -ms}, "hedge: WarmupDelay must not be negative, got -1ms"},
		{Config{Delay: ms, Quantile: 0.9}, "hedge: Quantile must be zero when Delay is set (Delay selects fixed hedging; Quantile tunes adaptive hedging)"},
		{Config{Delay: ms, WarmupDelay: ms}, "hedge: WarmupDelay must be zero when Delay is set (Delay selects fixed hedging; WarmupDelay tunes adaptive hedging)"},
		{Config{Delay: ms, MinDelay: ms}, "hedge: MinDelay must be zero when Delay is set (Delay selects fixed hedging; MinDelay tunes adaptive hedging)"},
		{Config{Delay: ms, MaxDelay: ms}, "hedge: MaxDelay must be zero when Delay is set (Delay selects fixed hedging; MaxDelay tunes adaptive hedging)"},
		{Config{MaxHedges: 11}, "hedge: MaxHedges must be between 1 and 10 (or 0 for 1), got 11"},
		{Config{MaxHedges: -1}, "hedge: MaxHedges must be between 1 and 10 (or 0 for 1), got -1"},
		{Config{Quantile: 1}, "hedge: Quantile must be in (0, 1) (or 0 for 0.95), got 1"},
		{Config{Quantile: math.NaN()}, "hedge: Quantile must be in (0, 1) (or 0 for 0.95), got NaN"},
		{Config{MinDelay: -ms}, "hedge: MinDelay and MaxDelay must not be negative, got -1ms and 0s"},
		{Config{MinDelay: time.Second, MaxDelay: ms}, "hedge: MinDelay (1s) must not exceed MaxDelay (1ms)"},
		{Config{Delays: []time.Duration{ms}, Delay: ms}, "hedge: Delay must be zero when Delays is set"},
		{Config{Delays: []time.Duration{ms}, Quantile: 0.5}, "hedge: Quantile must be zero when Delays is set (it tunes adaptive hedging)"},
		{Config{Delays: []time.Duration{ms}, WarmupDelay: ms}, "hedge: WarmupDelay must be zero when Delays is set (it tunes adaptive hedging)"},
		{Config{Delays: []time.Duration{ms}, MaxDelay: ms}, "hedge: MaxDelay must be zero when Delays is set (it tunes adaptive hedging)"},
		{Config{Delays: []time.Duration{ms}, MaxHedges: 1}, "hedge: MaxHedges must be zero when Delays is set (len(Delays) is the number of hedges), got 1"},
		{Config{Delays: []time.Duration{}}, "hedge: Delays must hold 1 to 10 delays, got 0"},
		{Config{Delays: make([]time.Duration, 11)}, "hedge: Delays must hold 1 to 10 delays, got 11"},
		{Config{Delays: []time.Duration{0}}, "hedge: Delays[0] must be positive, got 0s"},
		{Config{Delays: []time.Duration{2 * ms, 2 * ms}}, "hedge: Delays must be strictly increasing, got 2ms after 2ms"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, func() { New(tt.cfg) })
		})
	}
}
