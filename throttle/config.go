package throttle

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/idempotency"
)

// Defaults used for zero [Config] fields. docs/throttle.md explains them beside the peers' choices.
const (
	// DefaultMaxWait is how long a request may wait in the throttle (for
	// a closed gate, a pace slot or a concurrency slot) before it is
	// rejected instead. It equals retry.DefaultMaxRetryAfter: a request
	// that arrives during a pause then waits no longer than the retry
	// stage would have waited for the Retry-After that caused it, so an
	// ordinary pause of seconds is waited out, and a caller whose request
	// was not itself throttled is treated like one that was.
	DefaultMaxWait = 30 * time.Second

	// DefaultMaxPaceWait bounds the wait for a pace token: the depth of a
	// host's pacing queue, in time. A deeper queue adds latency and no
	// throughput (the host is kept at its rate either way), and it slows
	// the pacing's reaction: a rate AIMD cuts applies only to requests that
	// queue after the cut. In the quota lab, open loop at three times the
	// quota, queueing up to MaxWait made the median success wait 15–20 s
	// and kept a header-less host in 429s for seconds after each cut.
	DefaultMaxPaceWait = time.Second

	// DefaultMaxPause caps a pause asked for by a response (Envoy's
	// max_interval for rate-limited retries is the same 300 s). A longer
	// pause closes the gate for DefaultMaxPause; the next request after it
	// probes the host and, if it is still throttled, the gate closes again.
	// A misconfigured "Retry-After: 86400" thus costs a probe every five
	// minutes rather than a day of silence (go-retryablehttp #247 slept
	// for "484289h").
	DefaultMaxPause = 5 * time.Minute

	// DefaultReleaseWindow is the window over which requests that waited
	// for a gate are released once it opens, each at a random instant in
	// it, so that a host that just came back is not hit by every waiter at
	// once.
	DefaultReleaseWindow = 250 * time.Millisecond

	// DefaultK is the SRE book's K for adaptive throttling: a host may
	// reject up to half of the requests before the client starts
	// rejecting any locally ("Handling Overload": K = 2 is the preferred
	// trade-off; lower is more aggressive).
	DefaultK = 2.0

	// DefaultAdaptiveWindow is the window over which adaptive throttling
	// counts requests and accepts (the SRE book's "last two minutes").
	DefaultAdaptiveWindow = 2 * time.Minute

	// DefaultIdleTTL is how long a host may go unused before its state may
	// be forgotten: longer than DefaultAdaptiveWindow, so forgetting loses
	// no count still in use, and long enough to keep a learned rate across
	// ordinary lulls.
	DefaultIdleTTL = 10 * time.Minute

	// DefaultMaxHosts bounds how many hosts are tracked (about 1 KB each).
	DefaultMaxHosts = 10000
)

// HedgeHoldoff is how long after a host's last throttled answer (a 429,
// with or without Retry-After, or any response asking for a pause) the
// throttle refuses spare copies (hedges racing a live attempt, see
// [Throttle]) to it, at once, with Reason Gate. Such a host is
// at its limit (its 429s are cutting its learned rate): it has no spare
// capacity for optional copies, and a hedge would only add to the load it
// refuses (the SRE book: an overloaded answer must not multiply load).
// Ten seconds covers the episode a 429 belongs to (a burst of refusals,
// the pause it asked for, the release after it and AIMD's cut), the span
// over which Finagle's retry budget remembers refusals, and lets a host
// that throttled once be hedged again soon after it recovers.
const HedgeHoldoff = 10 * time.Second

// Config configures a [Throttle]. The zero value is the recommended setup:
// per-host gates from every pushback dialect, pacing learned from rate-limit
// headers (or, without them, from 429s by AIMD), adaptive throttling with
// K = 2 over 2 minutes, waits of up to 30 s (1 s in a pacing queue), pauses
// capped at 5 minutes, and no concurrency cap.
//
// New panics, naming the field, on a value it cannot honour.
type Config struct {
	// Rate paces every host to this many requests per second with a
	// token bucket of Burst; learned limits and AIMD can only lower it.
	// Use it when you know a host's quota (rate.Every(10*time.Millisecond)
	// for 100/s). If zero, hosts are paced only by what their responses
	// teach. New panics if it is negative or NaN.
	Rate rate.Limit

	// Burst is the token bucket's size for Rate. If zero, 1: requests are
	// spaced evenly, never sent in a burst. New panics if it is negative,
	// or set without Rate.
	Burst int

	// HostRate, if non-nil, gives each host its own configured rate and
	// burst instead of Rate and Burst (a zero rate leaves that host to
	// learning; a zero burst means 1). It is called once when a host's
	// state is created, with the host's key (see Key), on the goroutine of
	// the request that created it, and must be safe for concurrent use.
	// New panics if Rate or Burst is also set. What it returns must obey
	// the rules of Rate and Burst: a rate that is negative or NaN (which
	// x/time/rate would take for no limit), a negative burst, or a burst
	// without a rate is a programming error, like an invalid Rate or
	// Burst. The request whose host it was asked for then panics, on its
	// own goroutine, with a message naming Config.HostRate, the host and
	// the values ("throttle: Config.HostRate(\"https://a:443\") returned
	// (-1, 0): its rate must not be negative"), unsent and with its body
	// closed; no state is kept for the host, so every request to it
	// panics alike until HostRate is fixed, and other hosts are not
	// affected. rate.Inf means no limit.
	HostRate func(host string) (rate.Limit, int)

	// MaxConcurrent caps the requests in flight to one host, for
	// upstreams whose quota is in concurrent requests. If zero, no cap.
	// New panics if it is negative.
	MaxConcurrent int

	// MaxWait is the longest a request waits in the throttle before it is
	// rejected with an [*Error]. A wait whose end is known (a closed gate,
	// a pace turn) that would pass MaxWait or the request's context
	// deadline is refused at once, not waited out. A wait of unknown
	// length (for the answer to the probe after a pause, for a concurrency
	// slot) ends at MaxWait with an [*Error], or at the deadline, if that
	// comes first, with the context's error. Hedges never wait, whatever
	// MaxWait is. If zero, DefaultMaxWait. Negative means never wait:
	// every throttled request is rejected at once.
	MaxWait time.Duration

	// MaxPaceWait bounds a request's waits for pace tokens, in all: a
	// request whose turn in its host's pace comes later than what is left
	// of it is rejected at once (Reason Pace, with its turn as the hint)
	// instead of queueing. A pause that closes the gate while a request
	// waits for its turn sends it back to the gate (the host takes nothing
	// before the pause ends, so the turn is given back): it waits out the
	// pause as any request does, within MaxWait, and then takes a new turn
	// within what is left of MaxPaceWait. For a slow host it is raised to
	// the time four requests take at the host's rate (4 s at one request
	// a second), so that a slow quota still queues a few requests, and it
	// never exceeds MaxWait. If zero, DefaultMaxPaceWait. New panics if it
	// is negative.
	MaxPaceWait time.Duration

	// MaxPause caps the pause one response can impose on its host. If
	// zero, DefaultMaxPause. New panics if it is negative.
	MaxPause time.Duration

	// ReleaseWindow spreads the requests that waited for a gate over this
	// window after it opens. If zero, DefaultReleaseWindow. New panics if
	// it is negative.
	ReleaseWindow time.Duration

	// K is adaptive throttling's multiplier: a host's requests are
	// rejected locally with probability max(0, (requests − K·accepts) /
	// (requests + 1)) over AdaptiveWindow. If zero, DefaultK; negative
	// disables adaptive throttling. New panics if it is positive and
	// below 1 (it would reject requests the host accepts) or NaN.
	K float64

	// AdaptiveWindow is the window over which adaptive throttling counts.
	// If zero, DefaultAdaptiveWindow. New panics if it is negative.
	AdaptiveWindow time.Duration

	// Classifier says which responses are throttled and which are
	// accepted. If nil, idempotency.Default.
	Classifier idempotency.Classifier

	// Key returns the key of the host state a request uses. If nil, the
	// request URL's scheme and host:port, the host name lower-cased and
	// the port defaulted (80 for http, 443 for https), such as
	// "https://api.example.com:443". Return an API key's name instead to
	// share one quota among several hosts. It is called once per request,
	// on the request's goroutine, and must be safe for concurrent use.
	Key func(*http.Request) string

	// IdleTTL is how long a host may go unused before its state (a learned
	// rate included) may be forgotten. Forgetting is lazy, when a new host
	// arrives; a host whose gate is closed or that has requests in flight
	// or waiting is never forgotten. If zero, DefaultIdleTTL. New panics if
	// it is negative.
	IdleTTL time.Duration

	// MaxHosts bounds how many hosts are tracked; the least recently used
	// idle host is forgotten first. Busy hosts (see IdleTTL) are kept, so
	// the bound can be exceeded while more than MaxHosts hosts are busy.
	// If zero, DefaultMaxHosts. New panics if it is negative.
	MaxHosts int

	// OnThrottle, if non-nil, is called for every request the throttle
	// delayed or rejected; see [Event].
	OnThrottle func(Event)

	// Shared, if non-nil, shares each host's quota schedule and pushback
	// gate with every other process using the same store, so that a fleet
	// calling one upstream stays within one quota and pauses as one; see
	// [Shared] for what is shared, what stays local, and what happens
	// when the store fails. If nil, all state stays in this process.
	Shared Shared

	// Logger, if non-nil, receives one record per decision, in the
	// vocabulary of the [decision] package: a request delayed (throttled,
	// with the reason it waited longest for and the wait) or refused
	// (rejected: gate, pace, adaptive or concurrency), at Debug; a host
	// paused by a response (paused, with the pause), at Info; and Shared
	// failing (Warn, once per outage) and answering again (Info). If nil,
	// nothing is logged; a logger whose level drops a record costs no
	// allocation.
	Logger *slog.Logger
}

// settings is a validated Config with defaults applied.
type settings struct {
	rate          rate.Limit
	burst         int
	hostRate      func(string) (rate.Limit, int)
	maxConcurrent int
	maxWait       time.Duration // negative: never wait
	maxPaceWait   time.Duration
	maxPause      time.Duration
	releaseWindow time.Duration
	k             float64 // 0: adaptive throttling disabled
	window        time.Duration
	classifier    idempotency.Classifier
	key           func(*http.Request) string
	idleTTL       time.Duration
	maxHosts      int
	onThrottle    func(Event)
	shared        Shared
	logger        *slog.Logger
}

// normalize validates c and applies defaults. A misconfigured throttle is
// a programming error, so it panics rather than guess.
func (c Config) normalize() settings {
	s := settings{
		rate:       c.Rate,
		burst:      c.Burst,
		hostRate:   c.HostRate,
		classifier: c.Classifier,
		key:        c.Key,
		onThrottle: c.OnThrottle,
		shared:     c.Shared,
		logger:     c.Logger,
	}
	switch {
	case c.HostRate != nil && c.Rate != 0:
		panic("throttle: Config.HostRate and Config.Rate are both set; use one (HostRate returns each host's rate and burst)")
	case c.HostRate != nil && c.Burst != 0:
		panic("throttle: Config.HostRate and Config.Burst are both set; use one (HostRate returns each host's burst)")
	}
	if msg := checkRate(c.Rate, c.Burst, "Config.Rate", "Config.Burst"); msg != "" {
		panic("throttle: " + msg)
	}
	switch {
	case c.MaxConcurrent < 0:
		panic(fmt.Sprintf("throttle: Config.MaxConcurrent must not be negative, got %d", c.MaxConcurrent))
	case math.IsNaN(c.K) || (c.K > 0 && c.K < 1):
		panic(fmt.Sprintf("throttle: Config.K must be at least 1 (negative disables adaptive throttling), got %v", c.K))
	}
	if s.rate > 0 && s.burst == 0 {
		s.burst = 1
	}
	s.maxConcurrent = c.MaxConcurrent
	switch {
	case c.MaxWait == 0:
		s.maxWait = DefaultMaxWait
	case c.MaxWait < 0:
		s.maxWait = -1
	default:
		s.maxWait = c.MaxWait
	}
	s.maxPaceWait = duration("MaxPaceWait", c.MaxPaceWait, DefaultMaxPaceWait)
	s.maxPause = duration("MaxPause", c.MaxPause, DefaultMaxPause)
	s.releaseWindow = duration("ReleaseWindow", c.ReleaseWindow, DefaultReleaseWindow)
	s.window = duration("AdaptiveWindow", c.AdaptiveWindow, DefaultAdaptiveWindow)
	s.idleTTL = duration("IdleTTL", c.IdleTTL, DefaultIdleTTL)
	switch {
	case c.K == 0:
		s.k = DefaultK
	case c.K > 0:
		s.k = c.K
	}
	switch {
	case c.MaxHosts < 0:
		panic(fmt.Sprintf("throttle: Config.MaxHosts must not be negative, got %d", c.MaxHosts))
	case c.MaxHosts == 0:
		s.maxHosts = DefaultMaxHosts
	default:
		s.maxHosts = c.MaxHosts
	}
	if s.classifier == nil {
		s.classifier = idempotency.Default
	}
	return s
}

// checkRate returns what is wrong with a rate and burst, as Config.Rate
// and Config.Burst or as one host's HostRate result, or "" if nothing is.
// The message names them as rateName and burstName, for the caller to
// prefix.
func checkRate(r rate.Limit, burst int, rateName, burstName string) string {
	switch {
	case math.IsNaN(float64(r)):
		return rateName + " must be a number, got NaN"
	case r < 0:
		return fmt.Sprintf("%s must not be negative, got %v", rateName, r)
	case burst < 0:
		return fmt.Sprintf("%s must not be negative, got %d", burstName, burst)
	case burst > 0 && r == 0:
		return fmt.Sprintf("%s is %d without a rate", burstName, burst)
	}
	return ""
}

// hostRateOf returns host's rate and burst from Config.HostRate, with a
// zero burst made 1. It panics, naming HostRate and the host, on a result
// Config.Rate and Config.Burst could not hold: a rate that is negative or
// NaN would silently mean no limit, and a negative burst would silently
// become 1.
func (s *settings) hostRateOf(host string) (rate.Limit, int) {
	r, b := s.hostRate(host)
	if msg := checkRate(r, b, "its rate", "its burst"); msg != "" {
		panic(fmt.Sprintf("throttle: Config.HostRate(%q) returned (%v, %d): %s", host, r, b, msg))
	}
	if r > 0 && b == 0 {
		b = 1
	}
	return r, b
}

// duration returns d, or def when d is zero; it panics when d is negative.
func duration(field string, d, def time.Duration) time.Duration {
	if d < 0 {
		panic(fmt.Sprintf("throttle: Config.%s must not be negative, got %v", field, d))
	}
	if d == 0 {
		return def
	}
	return d
}
