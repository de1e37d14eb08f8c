package hedge

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

// Defaults used for zero [Config] fields.
const (
	// DefaultQuantile is the latency quantile adaptive hedging waits for
	// before sending a hedge: the Tail at Scale's recommendation, which
	// costs about 1 − 0.95 = 5% extra requests.
	DefaultQuantile = 0.95
	// DefaultWarmupDelay is the hedge delay adaptive hedging uses until
	// the stage has seen [MinSamples] latencies (a new host borrows the
	// estimate of the stage's other hosts once they have): the default of
	// [Config.WarmupDelay]. It errs on the late side: a hedge that fires
	// too early doubles load, one that fires late only helps less.
	DefaultWarmupDelay = 100 * time.Millisecond
	// DefaultMaxHedges is the number of hedges per request: one backup, as
	// the Tail at Scale and Polly do.
	DefaultMaxHedges = 1
	// DefaultMinDelay is the smallest adaptive delay. Below about a
	// millisecond a hedge races scheduler noise rather than a slow server.
	DefaultMinDelay = time.Millisecond
	// DefaultMaxDelay is the largest adaptive delay.
	DefaultMaxDelay = 10 * time.Second
	// DefaultBudgetRatio is the Ratio of the private [budget.Budget] a
	// stage uses when [Config.Budget] is nil: hedges may add at most 20% to
	// the request rate in any second (plus the budget's per-second floor),
	// and none while most attempts fail, so a slow upstream cannot be
	// hedged into overload. It is the retry stage's ratio, not the ~5% p95
	// hedging needs, because in the recommended hedge(retry(...)) order the
	// hedge is also the first retry of every failed try (see [Hedger]): on
	// an upstream that fails 15% of tries, 10% left a third of the
	// quickstart's runs with a p99 above 50 ms.
	DefaultBudgetRatio = 0.2
)

// maxHedgesLimit bounds MaxHedges: more than ten copies of one request is
// a load amplifier, not tail-latency insurance.
const maxHedgesLimit = 10

// Config configures a [Hedger]. The zero value is the recommended setup:
// adaptive hedging at the observed p95 latency of each host, one hedge per
// request, under a private budget of 20% extra requests.
//
// When hedges fire is chosen by exactly one of three modes:
//
//   - schedule: Delays is set; hedge k fires Delays[k-1] after the request
//     started (see [SLO]);
//   - fixed: Delay is set; hedge k fires at k × Delay;
//   - adaptive (otherwise): hedge k fires at k × d, where d is the Quantile
//     of recent latencies to the request's host, clamped to
//     [MinDelay, MaxDelay]; a host with too few recent latencies
//     ([MinSamples]) borrows the quantile of all the stage's hosts, and
//     WarmupDelay is used until those have enough.
//
// Each timing field belongs to one mode (Delays; Delay; Quantile,
// WarmupDelay, MinDelay and MaxDelay), so no field means two things: a
// field of one mode set beside another mode's is a contradiction.
//
// [New] panics, with a message naming the field, when fields contradict
// each other or are out of range.
type Config struct {
	// Delay selects fixed mode and is its interval between hedges: hedge
	// k fires k × Delay after the request started, whatever the
	// upstream's latency. If zero (the default), there is no fixed
	// interval and hedging is adaptive (or follows Delays). It must not be
	// negative, and must be zero when Delays or any adaptive field
	// (Quantile, WarmupDelay, MinDelay, MaxDelay) is set.
	Delay time.Duration

	// Delays, when set, is the schedule: hedge k fires Delays[k-1] after
	// the request started, and len(Delays) is the number of hedges (at most
	// 10). The values must be positive and strictly increasing. [SLO]
	// builds a schedule from an SLO target.
	Delays []time.Duration

	// Quantile selects adaptive mode and the latency quantile, in (0, 1),
	// to wait for before hedging. If zero (and no other mode is selected),
	// DefaultQuantile.
	Quantile float64

	// WarmupDelay is, in adaptive mode, the hedge delay used until the
	// stage has seen [MinSamples] latencies (from then on a new host
	// borrows the other hosts' quantile). If zero, DefaultWarmupDelay.
	// With few samples the stage may hedge sooner, on a guess from the
	// latencies it has, but never later than WarmupDelay. Setting it
	// selects adaptive mode; it must not be negative, and must be zero
	// with Delay or Delays.
	WarmupDelay time.Duration

	// MinDelay and MaxDelay clamp the adaptive delay. If zero,
	// DefaultMinDelay and DefaultMaxDelay. Setting either selects adaptive
	// mode; they must be zero with Delay or Delays.
	MinDelay, MaxDelay time.Duration

	// MaxHedges is the number of hedges per request, 1 to 10, in fixed and
	// adaptive mode. If zero, DefaultMaxHedges. It must be zero when Delays
	// is set: the schedule's length already says how many hedges there are.
	MaxHedges int

	// Budget limits hedges to a fraction of requests; share one with a
	// retry stage so that hedges and retries together stay within it. A
	// hedge the budget denies is not sent, and the request sends no further
	// hedges. If nil, the stage uses a private budget with Ratio
	// DefaultBudgetRatio and the budget package's other defaults.
	Budget *budget.Budget

	// Classifier decides which requests may be hedged and which outcomes
	// win the race. If nil, idempotency.Default.
	Classifier idempotency.Classifier

	// Skip, if set, is asked about every request; when it reports true the
	// request passes straight through, unhedged. It must be safe for
	// concurrent use and must not modify the request.
	Skip func(*http.Request) bool

	// Replicas, when it lists any, sends the hedges of a request to one
	// listed replica of a service to the service's other replicas rather
	// than to the request's own URL; see [Replicas]. If zero, every
	// attempt goes to the request's URL. [NewMiddleware] panics if it is
	// set: a server-side run has no URL to change (see [Middleware]).
	Replicas Replicas

	// OnHedge, if set, is called each time a hedge fires; see [HedgeInfo].
	OnHedge func(HedgeInfo)

	// OnComplete, if set, is called once per hedgeable request when its
	// race is decided; see [CompleteInfo].
	OnComplete func(CompleteInfo)

	// Logger, if set, receives one record per decision, in the vocabulary
	// of the [decision] package: a hedge sent (delay or failure), a hedge
	// not sent (budget, body), hedging stopped by the upstream's pushback,
	// a hedge's win, and each hedgeable request's outcome (attempt is the
	// winner, 0 if none won) — unless the stage serves an attempt of an
	// enclosing retry or hedge stage, which records the outcome (see
	// decision's "Outcomes"). If nil, the stage logs nothing; a logger
	// whose level drops a record costs no allocation.
	Logger *slog.Logger
}

// mode is how a stage decides when hedges fire.
type mode uint8

const (
	modeAdaptive mode = iota
	modeFixed
	modeSchedule
)

// settings is a validated Config with defaults applied.
type settings struct {
	sched      schedule
	budget     *budget.Budget
	classifier idempotency.Classifier
	skip       func(*http.Request) bool
	onHedge    func(HedgeInfo)
	onComplete func(CompleteInfo)
	logger     *slog.Logger
}

// normalize validates c and applies defaults. A misconfigured hedge stage
// is a programming error that would silently multiply load, so it panics
// rather than clamp.
func (c Config) normalize() settings {
	s := settings{
		budget:     c.Budget,
		classifier: c.Classifier,
		skip:       c.Skip,
		onHedge:    c.OnHedge,
		onComplete: c.OnComplete,
		logger:     c.Logger,
	}
	if s.budget == nil {
		s.budget = budget.New(budget.Config{Ratio: DefaultBudgetRatio})
	}
	if s.classifier == nil {
		s.classifier = idempotency.Default
	}
	s.sched = c.schedule()
	return s
}

// schedule validates the timing fields and picks the mode.
func (c Config) schedule() schedule {
	if c.Delay < 0 {
		panic(fmt.Sprintf("hedge: Delay must not be negative, got %v", c.Delay))
	}
	if c.WarmupDelay < 0 {
		panic(fmt.Sprintf("hedge: WarmupDelay must not be negative, got %v", c.WarmupDelay))
	}
	if c.MaxHedges < 0 || c.MaxHedges > maxHedgesLimit {
		panic(fmt.Sprintf("hedge: MaxHedges must be between 1 and %d (or 0 for %d), got %d",
			maxHedgesLimit, DefaultMaxHedges, c.MaxHedges))
	}
	if !(c.Quantile >= 0 && c.Quantile < 1) { // also rejects NaN
		panic(fmt.Sprintf("hedge: Quantile must be in (0, 1) (or 0 for %v), got %v", DefaultQuantile, c.Quantile))
	}
	if c.MinDelay < 0 || c.MaxDelay < 0 {
		panic(fmt.Sprintf("hedge: MinDelay and MaxDelay must not be negative, got %v and %v", c.MinDelay, c.MaxDelay))
	}

	if c.Delays != nil {
		switch {
		case c.Delay != 0:
			panic("hedge: Delay must be zero when Delays is set")
		case c.adaptiveField() != "":
			panic(fmt.Sprintf("hedge: %s must be zero when Delays is set (it tunes adaptive hedging)", c.adaptiveField()))
		case c.MaxHedges != 0:
			panic(fmt.Sprintf("hedge: MaxHedges must be zero when Delays is set (len(Delays) is the number of hedges), got %d", c.MaxHedges))
		}
		checkDelays("Delays", c.Delays)
		return schedule{mode: modeSchedule, delays: append([]time.Duration(nil), c.Delays...), hedges: len(c.Delays)}
	}

	hedges := c.MaxHedges
	if hedges == 0 {
		hedges = DefaultMaxHedges
	}
	if c.Delay > 0 {
		if f := c.adaptiveField(); f != "" {
			panic(fmt.Sprintf("hedge: %s must be zero when Delay is set (Delay selects fixed hedging; %s tunes adaptive hedging)", f, f))
		}
		return schedule{mode: modeFixed, step: c.Delay, hedges: hedges}
	}

	s := schedule{mode: modeAdaptive, hedges: hedges, quantile: c.Quantile,
		step: c.WarmupDelay, min: c.MinDelay, max: c.MaxDelay}
	if s.quantile == 0 {
		s.quantile = DefaultQuantile
	}
	if s.step == 0 {
		s.step = DefaultWarmupDelay
	}
	if s.min == 0 {
		s.min = DefaultMinDelay
	}
	if s.max == 0 {
		s.max = DefaultMaxDelay
	}
	if s.min > s.max {
		panic(fmt.Sprintf("hedge: MinDelay (%v) must not exceed MaxDelay (%v)", s.min, s.max))
	}
	return s
}

// adaptiveField returns the name of the first adaptive-mode field set in
// c, or "" if none is.
func (c Config) adaptiveField() string {
	switch {
	case c.Quantile != 0:
		return "Quantile"
	case c.WarmupDelay != 0:
		return "WarmupDelay"
	case c.MinDelay != 0:
		return "MinDelay"
	case c.MaxDelay != 0:
		return "MaxDelay"
	}
	return ""
}

// checkDelays panics, naming arg, unless ds is a non-empty, strictly
// increasing list of at most maxHedgesLimit positive durations.
func checkDelays(arg string, ds []time.Duration) {
	if len(ds) == 0 || len(ds) > maxHedgesLimit {
		panic(fmt.Sprintf("hedge: %s must hold 1 to %d delays, got %d", arg, maxHedgesLimit, len(ds)))
	}
	for i, d := range ds {
		if d <= 0 {
			panic(fmt.Sprintf("hedge: %s[%d] must be positive, got %v", arg, i, d))
		}
		if i > 0 && d <= ds[i-1] {
			panic(fmt.Sprintf("hedge: %s must be strictly increasing, got %v after %v", arg, d, ds[i-1]))
		}
	}
}
