package budget

import (
	"fmt"
	"math"
	"time"
)

// Defaults used for zero [Config] fields. The ratio and the floor are
// Finagle's RetryBudget defaults, which Linkerd adopted: retries may add 20%
// to the request rate, at least 10 per second. Finagle measures them over
// 10 s, which lets a client bank 10 s of allowance and spend it in one
// burst; the window here is 1 s, so the bound holds second by second. The
// tokens are gRPC's retry-throttling example (gRFC A6).
const (
	// DefaultRatio is the extra attempts allowed per first attempt.
	DefaultRatio = 0.2
	// DefaultMinPerSecond is the floor of extra attempts allowed per second,
	// whatever the traffic.
	DefaultMinPerSecond = 10.0
	// DefaultWindow is the longest span of time the rate rule bounds.
	DefaultWindow = time.Second
	// DefaultMaxTokens is the size of the failure gate: extras stop after
	// half as many net failures.
	DefaultMaxTokens = 10
	// MaxTokensLimit is the largest MaxTokens New accepts, gRPC's.
	MaxTokensLimit = 1000
)

// Config configures a [Budget]. The zero value is the recommended setup.
//
// Zero means "default" for every field, so a ratio or a floor of exactly zero
// cannot be expressed; a tiny positive value such as 1e-9 behaves as zero.
type Config struct {
	// Ratio is the number of extra attempts (retries plus hedges) allowed per
	// first attempt in the window: 0.2 lets extras add 20% to the load.
	// If zero, DefaultRatio. New panics unless 0 ≤ Ratio ≤ 1.
	Ratio float64

	// MinPerSecond is the floor: extra attempts allowed per second regardless
	// of traffic, so that a client sending few requests can still retry. It
	// grants MinPerSecond × Window.Seconds() extras per window.
	// If zero, DefaultMinPerSecond. New panics if it is negative, NaN or
	// infinite.
	MinPerSecond float64

	// Window is the longest span of time the rate rule bounds: in any span
	// of Window, extras stay within Ratio × that span's first attempts plus
	// MinPerSecond × Window (counted in buckets of Window / 20). A longer
	// window lets extras earned long ago be spent at once.
	// If zero, DefaultWindow. New panics if it is negative.
	Window time.Duration
	// MaxTokens sizes the failure gate: it starts full, each recorded
	// failure takes a token, each recorded success gives one back, and no
	// extra is granted while MaxTokens / 2 or fewer remain. A larger value
	// tolerates a longer run of failures before extras stop; 1000 makes the
	// gate all but inert. If zero, DefaultMaxTokens. New panics unless
	// 0 ≤ MaxTokens ≤ MaxTokensLimit.
	MaxTokens int
}

// settings is a validated Config with defaults applied.
type settings struct {
	ratio     float64       // extras per first attempt
	floor     float64       // extras per window granted regardless of traffic
	window    time.Duration // longest span the rate rule bounds
	maxTokens float64       // the failure gate's size
}

// normalize validates c and applies defaults. It panics, with a message that
// names the field, on a value New cannot honour: a misconfigured budget is a
// programming error, and silently clamping it would hide an outage amplifier.
func (c Config) normalize() settings {
	s := settings{ratio: c.Ratio, window: c.Window}
	if !(c.Ratio >= 0 && c.Ratio <= 1) { // also rejects NaN
		panic(fmt.Sprintf("budget: Ratio must be in [0, 1], got %v", c.Ratio))
	}
	if c.MinPerSecond < 0 || math.IsNaN(c.MinPerSecond) || math.IsInf(c.MinPerSecond, 0) {
		panic(fmt.Sprintf("budget: MinPerSecond must be finite and non-negative, got %v", c.MinPerSecond))
	}
	if c.Window < 0 {
		panic(fmt.Sprintf("budget: Window must be non-negative, got %v", c.Window))
	}
	if c.MaxTokens < 0 || c.MaxTokens > MaxTokensLimit {
		panic(fmt.Sprintf("budget: MaxTokens must be between 1 and %d (or 0 for %d), got %d", MaxTokensLimit, DefaultMaxTokens, c.MaxTokens))
	}
	if s.ratio == 0 {
		s.ratio = DefaultRatio
	}
	perSecond := c.MinPerSecond
	if perSecond == 0 {
		perSecond = DefaultMinPerSecond
	}
	if s.window == 0 {
		s.window = DefaultWindow
	}
	s.floor = perSecond * s.window.Seconds()
	s.maxTokens = DefaultMaxTokens
	if c.MaxTokens != 0 {
		s.maxTokens = float64(c.MaxTokens)
	}
	return s
}
