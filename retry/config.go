package retry

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

// Defaults used for zero [Config] fields.
const (
	// DefaultMaxAttempts is the total number of attempts, the first
	// included: Polly's, Microsoft's and AWS's choice, and the SRE book's
	// "at most 3".
	DefaultMaxAttempts = 3
	// MaxAttemptsLimit is the largest MaxAttempts New accepts: more attempts
	// than this only multiply the load on an upstream that is already
	// failing.
	MaxAttemptsLimit = 10
	// DefaultBaseDelay is the first backoff envelope: Envoy's. The budget,
	// not the backoff, bounds what a failing upstream receives (a ratio in
	// every second, and no retries at all while failures outnumber
	// successes), so the first retry can come soon; in hedge(retry(...))
	// order, where the hedge already re-sends a failed try at once, a
	// short first backoff is what keeps a request whose original and hedge
	// both fail off the tail (a 100 ms envelope put the quickstart's p99 at
	// 97 ms).
	DefaultBaseDelay = 25 * time.Millisecond
	// DefaultMaxDelay caps the backoff envelope.
	DefaultMaxDelay = 10 * time.Second
	// DefaultMaxRetryAfter is the longest server-requested wait honoured.
	DefaultMaxRetryAfter = 30 * time.Second
	// DefaultMaxBufferedBody is the largest request body without GetBody
	// that is copied into memory so that it can be retried: 1 MiB, the
	// hedge stage's limit too.
	DefaultMaxBufferedBody = 1 << 20
	// Multiplier is the growth factor of the backoff envelope: each retry's
	// envelope is twice the previous one, up to MaxDelay.
	Multiplier = 2.0
)

// Config configures a [Retrier]. The zero value is the recommended setup:
// 3 attempts, full jitter over a 25 ms … 10 s doubling envelope, Retry-After
// honoured up to 30 s, no per-attempt timeout, a private default budget and
// [idempotency.Default].
//
// New panics if a field is out of range; the message names the field.
type Config struct {
	// MaxAttempts is the total number of attempts, including the first.
	// 1 disables retries (the stage still applies AttemptTimeout).
	// If zero, DefaultMaxAttempts. New panics unless
	// 0 ≤ MaxAttempts ≤ MaxAttemptsLimit.
	MaxAttempts int

	// BaseDelay is the backoff envelope before the first retry; the
	// envelope doubles for each later retry (see [Multiplier]).
	// If zero, DefaultBaseDelay. New panics if it is negative.
	BaseDelay time.Duration

	// MaxDelay caps the backoff envelope (and DecorrelatedJitter's draws).
	// If zero, DefaultMaxDelay. New panics if it is negative or below the
	// effective BaseDelay.
	MaxDelay time.Duration

	// Jitter draws each backoff delay from the envelope. If nil,
	// [FullJitter]. Each request gets its own policy from it, built only
	// when that request needs its first backoff.
	Jitter Jitter

	// MaxRetryAfter is the longest wait the stage will honour when a
	// server asks for one with Retry-After. A longer request is not
	// waited for: the response is returned at once, so the caller can
	// decide. (An inner stage's [idempotency.Rejection] is always returned
	// at once, whatever its RetryAfter.) If zero, DefaultMaxRetryAfter. New
	// panics if it is negative.
	MaxRetryAfter time.Duration

	// AttemptTimeout bounds each attempt's wait for response headers from
	// the upstream (not the reading of the body). Time an inner stage
	// holds the attempt back locally, before sending it, is not counted:
	// a throttle's wait for a pace turn, at a closed gate, in a new host's
	// debut or for a MaxConcurrent slot, and a breaker's MaxWait for a
	// probe each stop the clock, and the upstream gets the whole
	// AttemptTimeout from the moment the wait ends. An attempt that runs
	// out of it is canceled and counts as Transient, whatever the
	// Classifier says, so a black-holed upstream is retried while the
	// caller's deadline allows; its error wraps [ErrAttemptTimeout]. The
	// caller's deadline bounds the waits and the attempt alike. If zero,
	// no per-attempt timeout. New panics if it is negative.
	AttemptTimeout time.Duration

	// Budget limits retries to a fraction of requests. It may be shared
	// with a hedge stage: each caller request is deposited once across
	// both. If nil, a private budget.New(budget.Config{}) (20% of requests
	// plus 10 per second in every second; none after 5 net failures).
	Budget *budget.Budget

	// Classifier decides which requests may be retried and what each
	// attempt's result means. If nil, [idempotency.Default].
	Classifier idempotency.Classifier

	// MaxBufferedBody is the largest request body lacking GetBody that is
	// copied into memory so a replayable request can be retried; a larger
	// body is sent once, whole, and never retried. Bodies with GetBody are
	// never copied. If zero, DefaultMaxBufferedBody (1 MiB). New panics if
	// it is negative.
	MaxBufferedBody int64

	// OnRetry, if non-nil, is called before each wait for a retry; see
	// [RetryInfo].
	OnRetry func(RetryInfo)

	// Logger, if non-nil, receives one record per decision: a retry (with
	// its wait and why), a request not retried or given up on (and why),
	// and each request's outcome — unless the stage serves an attempt of
	// an enclosing hedge or retry stage, which records the outcome (see
	// decision's "Outcomes") — in the shared vocabulary of the [decision]
	// package. If nil, the stage logs nothing. A logger whose level drops
	// a record costs no allocation.
	Logger *slog.Logger
}

// settings is a normalized Config.
type settings struct {
	maxAttempts     int
	baseDelay       time.Duration
	maxDelay        time.Duration
	jitter          Jitter
	maxRetryAfter   time.Duration
	attemptTimeout  time.Duration
	budget          *budget.Budget
	classifier      idempotency.Classifier
	maxBufferedBody int64
	onRetry         func(RetryInfo)
	logger          *slog.Logger
}

// normalize applies the defaults and panics on an invalid field.
func (c Config) normalize() settings {
	s := settings{
		maxAttempts:     orDefault(c.MaxAttempts, DefaultMaxAttempts),
		baseDelay:       orDefault(c.BaseDelay, DefaultBaseDelay),
		maxDelay:        orDefault(c.MaxDelay, DefaultMaxDelay),
		jitter:          c.Jitter,
		maxRetryAfter:   orDefault(c.MaxRetryAfter, DefaultMaxRetryAfter),
		attemptTimeout:  c.AttemptTimeout,
		budget:          c.Budget,
		classifier:      c.Classifier,
		maxBufferedBody: orDefault(c.MaxBufferedBody, DefaultMaxBufferedBody),
		onRetry:         c.OnRetry,
		logger:          c.Logger,
	}
	switch {
	case c.MaxAttempts < 0 || c.MaxAttempts > MaxAttemptsLimit:
		panic(fmt.Sprintf("retry: MaxAttempts must be between 1 and %d, got %d", MaxAttemptsLimit, c.MaxAttempts))
	case c.BaseDelay < 0:
		panic(fmt.Sprintf("retry: BaseDelay must not be negative, got %v", c.BaseDelay))
	case c.MaxDelay < 0:
		panic(fmt.Sprintf("retry: MaxDelay must not be negative, got %v", c.MaxDelay))
	case s.maxDelay < s.baseDelay:
		panic(fmt.Sprintf("retry: MaxDelay (%v) must be at least BaseDelay (%v)", s.maxDelay, s.baseDelay))
	case c.MaxRetryAfter < 0:
		panic(fmt.Sprintf("retry: MaxRetryAfter must not be negative, got %v", c.MaxRetryAfter))
	case c.AttemptTimeout < 0:
		panic(fmt.Sprintf("retry: AttemptTimeout must not be negative, got %v", c.AttemptTimeout))
	case c.MaxBufferedBody < 0:
		panic(fmt.Sprintf("retry: MaxBufferedBody must not be negative, got %d", c.MaxBufferedBody))
	}
	if s.jitter == nil {
		s.jitter = FullJitter
	}
	if s.budget == nil {
		s.budget = budget.New(budget.Config{})
	}
	if s.classifier == nil {
		s.classifier = idempotency.Default
	}
	return s
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
