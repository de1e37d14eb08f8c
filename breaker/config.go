package breaker

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// Defaults used for zero [Config] fields. docs/breaker.md compares them with Polly, resilience4j and gobreaker.
const (
	// DefaultConsecutiveFailures trips a breaker after 5 failures in a row:
	// a dead host fails every request, so a low-traffic client learns it
	// after five calls instead of waiting for a ratio's minimum volume.
	DefaultConsecutiveFailures = 5
	// DefaultFailureRatio trips a breaker when half of the settled
	// requests in the window failed (resilience4j's 50%). Lower ratios
	// (Polly's 10%) turn errors a retry stage would absorb into a full
	// outage of the host for OpenTimeout.
	DefaultFailureRatio = 0.5
	// DefaultMinRequests is the number of settled requests the window must
	// hold before the ratio rule may trip, so that 1 failure out of 2 does
	// not open the breaker.
	DefaultMinRequests = 20
	// DefaultWindow is how far back outcomes are counted (Polly's sampling
	// duration).
	DefaultWindow = 30 * time.Second
	// DefaultOpenTimeout is how long an open breaker refuses requests
	// before it lets a probe through (Polly's break duration; gobreaker's
	// 60 s keeps a recovered host unused for a long time).
	DefaultOpenTimeout = 5 * time.Second
	// DefaultHalfOpenProbes is how many probes may be in flight at once in
	// the half-open state (Polly and gobreaker: 1).
	DefaultHalfOpenProbes = 1
	// DefaultIdleTTL is how long a key's breaker may go unused before it
	// may be evicted. It is twice DefaultWindow: by then every outcome the
	// breaker counted has left the window, so evicting it forgets nothing.
	DefaultIdleTTL = time.Minute
	// DefaultMaxKeys bounds how many keys are tracked (about 1 KB each).
	DefaultMaxKeys = 10000
	// DefaultMaxWait is how long a request may wait for its key to admit
	// it: zero, so a request meeting an open breaker is refused at once
	// (fail fast). Waiting is opt-in through Config.MaxWait.
	DefaultMaxWait time.Duration = 0
	// DefaultFleetQuorum opens a key here when half of the processes that
	// called it within the window report it open: the host, not a caller,
	// is then the likely culprit (one process's own network or DNS fails
	// one process), yet processes that send too little to trip on their
	// own are spared their share of failures.
	DefaultFleetQuorum = 0.5
	// DefaultFleetMinQuorum is the fewest reports that open a key here: 2,
	// so that one process can never open it for the others, however small
	// the fleet (Polly's objection to shared breaker state, proposal #287).
	DefaultFleetMinQuorum = 2
	// DefaultFleetPoll is how often a key asks the fleet for its view: a
	// fleet-wide open reaches every process within a second, far inside
	// DefaultOpenTimeout, at one round trip per key per second.
	DefaultFleetPoll = time.Second
)

// windowBuckets is how many buckets the rolling window is split into: an
// outcome stops counting between 0.9 × Window and Window after its attempt
// finished.
const windowBuckets = 10

// Config configures a [Breaker]. The zero value is the recommended setup:
// per-host breakers that open after 5 consecutive failures or 50% failures
// over at least 20 requests in 30 s, stay open 5 s, then send 1 probe.
//
// The breaker trips when either rule is met; set one rule's field to a
// negative value to disable that rule. New panics, naming the field, on a
// value it cannot honour.
type Config struct {
	// ConsecutiveFailures trips the breaker after this many failures in a
	// row with no success between them, however far apart (a host that
	// has not answered well since is not known to be healthy). If zero,
	// DefaultConsecutiveFailures; negative disables the rule.
	ConsecutiveFailures int

	// FailureRatio trips the breaker when failures / (successes +
	// failures) reaches it over Window, once MinRequests outcomes are in
	// the window. Excluded outcomes count in neither. If zero,
	// DefaultFailureRatio; negative disables the rule. New panics if it is
	// above 1 or NaN.
	FailureRatio float64

	// MinRequests is the number of settled (successful or failed) requests
	// Window must hold before FailureRatio applies. If zero,
	// DefaultMinRequests. New panics if it is negative.
	MinRequests int

	// Window is the rolling window over which FailureRatio counts, split
	// into 10 buckets. An outcome counts from the instant its attempt
	// finished, so a slow failure (a 504 after a minute) counts in full.
	// If zero, DefaultWindow. New panics if it is negative or below 10ns.
	Window time.Duration

	// OpenTimeout is how long a breaker stays open before it turns
	// half-open and lets probes through. If zero, DefaultOpenTimeout. New
	// panics if it is negative.
	OpenTimeout time.Duration

	// HalfOpenProbes is how many probes may be in flight at once while
	// half-open; that many consecutive successful probes close the
	// breaker, and one failed probe re-opens it. If zero,
	// DefaultHalfOpenProbes. New panics if it is negative.
	HalfOpenProbes int

	// MaxWait lets a request that meets its key open, or half-open with
	// every probe slot taken, wait up to this long to be admitted instead
	// of being refused at once. It waits for the open period to end and
	// then for the probe's outcome; if the probe closes the key, the
	// requests that waited are let through in growing waves (see
	// [Breaker]) rather than all at once onto a host that has just
	// recovered. A request whose key stays open past its wait (MaxWait, or
	// its context's deadline if sooner) is refused at once, without
	// waiting in vain, and one still refused when its wait ends is refused
	// then. A request that waits tells an enclosing hedge stage, as a
	// throttle's closed gate does: it sends no hedge of the request into
	// the wait, and does not take the wait for the host's latency; and an
	// enclosing retry stage's AttemptTimeout does not count it (nothing
	// was sent). If zero, DefaultMaxWait: requests never wait, and an open breaker
	// refuses at once. New panics if it is negative.
	MaxWait time.Duration

	// CountThrottled makes throttled outcomes (429, or 503 whose
	// Retry-After asks for a pause) count as failures. By default they are excluded: a
	// throttle is the upstream deliberately shaping this client's rate,
	// not a sign that it is broken, and opening the breaker would turn a
	// rate limit into a full outage; the retry stage already honours
	// Retry-After.
	CountThrottled bool

	// Classifier says what each response or error means. If nil,
	// idempotency.Default.
	Classifier idempotency.Classifier

	// Key returns the key of the breaker a request goes through. If nil,
	// the key is the request URL's scheme and host:port, with the host
	// name lower-cased and the port defaulted for http (80) and https
	// (443), such as "https://api.example.com:443". Key is called once per request, on
	// the request's goroutine, and must be safe for concurrent use.
	Key func(*http.Request) string

	// IdleTTL is how long a key's breaker may go unused before it may be
	// evicted. Eviction is lazy and incremental: each new key looks at the
	// next 16 tracked keys in turn and evicts those idle this long, so an
	// idle key is gone once (tracked keys)/16 new keys have arrived. If
	// zero, DefaultIdleTTL. New panics if it is negative.
	IdleTTL time.Duration

	// MaxKeys bounds how many keys are tracked, and how many evicted
	// unhealthy keys are remembered. When a new key would exceed it, the
	// least recently used of a few keys looked at is evicted, a closed one
	// first. Only keys with requests in flight (or waiting) are never
	// evicted, so the bound is exceeded only while every key looked at has
	// requests in flight, and the excess shrinks back by one per new key
	// after. An evicted key that was open, or past its open period
	// without a successful probe, is remembered (a few dozen bytes) and
	// comes back open until its open period ends, then half-open: never
	// closed with a burst let through. If zero, DefaultMaxKeys. New panics
	// if it is negative.
	MaxKeys int

	// OnStateChange, if non-nil, is called once for every state change of
	// every key, in order per key, never while the breaker holds a lock:
	// it may call [Breaker.StateOf] and [Breaker.Snapshot]. See
	// [StateChange] for which goroutine calls it.
	OnStateChange func(StateChange)

	// Logger, if non-nil, receives one record per decision, in the
	// vocabulary of the [decision] package: each state change at Info
	// (with why, and the window's successes and failures that led to
	// it) and each refused request at Debug. If nil, nothing is logged; a
	// logger whose level drops a record costs no allocation.
	Logger *slog.Logger

	// Fleet, if non-nil, shares what this process's breakers see with the
	// other processes using the same store: each key opens here too when
	// a quorum of the processes calling it report it open (see [Fleet]).
	// If nil, every breaker decides alone.
	Fleet Fleet

	// FleetQuorum is the share of the processes that called a key within
	// Window whose open reports open it here too, at least FleetMinQuorum
	// of them. If zero, DefaultFleetQuorum. New panics if it is not in
	// (0, 1].
	FleetQuorum float64

	// FleetMinQuorum is the fewest open reports of other processes that
	// open a key here. If zero, DefaultFleetMinQuorum. New panics if it is
	// negative or 1: a single report never opens a key for another process
	// (see [Fleet]).
	FleetMinQuorum int

	// FleetPoll is how often, at most, a key asks the fleet for its view,
	// on the goroutine of the request that finds it due. If zero,
	// DefaultFleetPoll. New panics if it is negative.
	FleetPoll time.Duration
}

// settings is a validated Config with defaults applied.
type settings struct {
	consecutive    uint32  // 0: rule disabled
	ratio          float64 // 0: rule disabled
	minRequests    uint32
	window         time.Duration
	openTimeout    time.Duration
	probes         uint32
	countThrottled bool
	classifier     idempotency.Classifier
	key            func(*http.Request) string
	idleTTL        time.Duration
	maxKeys        int
	maxWait        time.Duration
	onStateChange  func(StateChange)
	logger         *slog.Logger
	fleet          Fleet
	fleetQuorum    float64
	fleetMinQuorum int
	fleetPoll      time.Duration
}

// normalize validates c and applies defaults. A misconfigured breaker is a
// programming error, so it panics rather than guess.
func (c Config) normalize() settings {
	s := settings{
		countThrottled: c.CountThrottled,
		classifier:     c.Classifier,
		key:            c.Key,
		onStateChange:  c.OnStateChange,
		logger:         c.Logger,
		fleet:          c.Fleet,
	}
	switch {
	case c.FleetQuorum == 0:
		s.fleetQuorum = DefaultFleetQuorum
	case c.FleetQuorum > 0 && c.FleetQuorum <= 1:
		s.fleetQuorum = c.FleetQuorum
	default:
		panic(fmt.Sprintf("breaker: FleetQuorum must be in (0, 1], got %v", c.FleetQuorum))
	}
	s.fleetMinQuorum = positive("FleetMinQuorum", c.FleetMinQuorum, DefaultFleetMinQuorum, math.MaxInt32)
	if s.fleetMinQuorum < 2 {
		panic(fmt.Sprintf("breaker: FleetMinQuorum must be at least 2, so that one process's report never opens a key for the others, got %d", c.FleetMinQuorum))
	}
	s.fleetPoll = duration("FleetPoll", c.FleetPoll, DefaultFleetPoll)
	switch {
	case c.ConsecutiveFailures == 0:
		s.consecutive = DefaultConsecutiveFailures
	case c.ConsecutiveFailures > 0:
		s.consecutive = uint32(positive("ConsecutiveFailures", c.ConsecutiveFailures, 0, math.MaxUint32))
	}
	switch {
	case math.IsNaN(c.FailureRatio) || c.FailureRatio > 1:
		panic(fmt.Sprintf("breaker: FailureRatio must be at most 1 (negative disables it), got %v", c.FailureRatio))
	case c.FailureRatio == 0:
		s.ratio = DefaultFailureRatio
	case c.FailureRatio > 0:
		s.ratio = c.FailureRatio
	}
	if s.consecutive == 0 && s.ratio == 0 {
		panic("breaker: ConsecutiveFailures and FailureRatio are both disabled; the breaker could never open")
	}
	s.minRequests = uint32(positive("MinRequests", c.MinRequests, DefaultMinRequests, math.MaxUint32))
	s.probes = uint32(positive("HalfOpenProbes", c.HalfOpenProbes, DefaultHalfOpenProbes, math.MaxUint32))
	s.maxKeys = positive("MaxKeys", c.MaxKeys, DefaultMaxKeys, math.MaxInt)
	s.window = duration("Window", c.Window, DefaultWindow)
	if s.window < windowBuckets {
		panic(fmt.Sprintf("breaker: Window must be at least %dns, got %v", windowBuckets, c.Window))
	}
	s.openTimeout = duration("OpenTimeout", c.OpenTimeout, DefaultOpenTimeout)
	s.idleTTL = duration("IdleTTL", c.IdleTTL, DefaultIdleTTL)
	s.maxWait = duration("MaxWait", c.MaxWait, DefaultMaxWait)
	if s.classifier == nil {
		s.classifier = idempotency.Default
	}
	return s
}

// positive returns v, or def when v is zero; it panics when v is negative
// or above limit.
func positive(field string, v, def int, limit int64) int {
	if v < 0 || int64(v) > limit {
		panic(fmt.Sprintf("breaker: %s must be between 0 and %d, got %d", field, limit, v))
	}
	if v == 0 {
		return def
	}
	return v
}

// duration returns d, or def when d is zero; it panics when d is negative.
func duration(field string, d, def time.Duration) time.Duration {
	if d < 0 {
		panic(fmt.Sprintf("breaker: %s must not be negative, got %v", field, d))
	}
	if d == 0 {
		return def
	}
	return d
}
