package breaker

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/internal/saturate"
)

// Fleet is where the breakers of many processes calling the same hosts
// tell each other what they see, so that a host that fails for the whole
// fleet is opened in every process without each having to pay its own
// failures first, and a process that starts while a host is open
// fleet-wide starts with it open. Config.Fleet plugs it in; the nested
// module github.com/tailguard/tailguard/redisstate implements it on Redis.
// The default, a nil Config.Fleet, keeps every breaker to itself.
//
// # What a process does with it
//
// A process reports its own transitions: open when its breaker for a key
// opens by its own outcomes (its trip rules, or a failed probe), closed
// when it closes. It never reports an open state it took from the fleet,
// so the fleet cannot talk itself into an outage. At most once per
// Config.FleetPoll per key, on a request's goroutine (other requests do
// not wait for it), it observes the key: if at least a quorum of the
// processes that sent requests to the key within Config.Window have
// reported it open, max(Config.FleetMinQuorum, ⌈Config.FleetQuorum ×
// callers⌉) of them, a key that is closed here opens here too, until the
// newest report's open period (Config.OpenTimeout) ends. That is this
// process's breaker state like any other: [Breaker.StateOf] and
// [Breaker.Snapshot] report it Open, Config.OnStateChange and
// Config.Logger see closed → open (the decision log's reason is "fleet"),
// and when the fleet's open period ends the key turns half-open and lets
// Config.HalfOpenProbes probes through, exactly as after its own open
// period: a successful probe closes it, a failed one opens it for a full
// OpenTimeout — an outcome this process saw itself, which it reports. A
// key already open or half-open by its own rules keeps its own cycle. The
// first request to a key observes it before it is sent.
//
// # One process never opens another
//
// Fewer reports than the quorum change nothing, and the quorum is never
// below 2 other processes (New refuses a FleetMinQuorum of 1): one bad
// node (its own network, its own DNS) cannot poison the others, which is
// Polly's objection to shared breaker state (proposal #287). The issue
// that asked for this allowed a single report at most to make a
// process's own half-open probe more cautious; it does less — nothing:
// a process's probe already is one request at a time by default
// (HalfOpenProbes 1), so the only caution left would be to probe later,
// which is keeping the key open longer on one report, the very thing the
// quorum forbids.
//
// Nothing holds a lock across a request and no call is serialized, unlike
// gobreaker's DistributedCircuitBreaker, which runs every call under a
// fleet-wide lock.
//
// # Contract
//
// Each call must return within a few milliseconds, and return an error
// rather than wait for a store that does not answer; on an error the
// breaker goes on with its local state alone and logs the outage once
// through Config.Logger. A Fleet must be safe for concurrent use.
type Fleet interface {
	// Report records that this process's breaker for key opened (open)
	// or closed. An open report counts for window unless refreshed.
	Report(ctx context.Context, key string, open bool, window time.Duration) error

	// Observe returns the fleet's view of key within window, after
	// recording, if calling, that this process sent requests to key since
	// it last observed it. A process whose breaker refused every request
	// to key (open, perhaps on the fleet's word) is no caller: counting it
	// would raise the quorum the reporting processes must reach.
	Observe(ctx context.Context, key string, window time.Duration, calling bool) (FleetView, error)
}

// FleetView is what a [Fleet] knows about a key within a window.
type FleetView struct {
	// Callers is how many processes sent requests to the key.
	Callers int
	// Open is how many other processes reported their breaker for the
	// key open and have not reported it closed since.
	Open int
	// Newest is the age of the newest of those reports; negative if none.
	Newest time.Duration
}

// fleetState is one key's view of the fleet. It is safe for concurrent use.
type fleetState struct {
	sent    atomic.Bool  // a request was sent to the key since the last observation
	polled  atomic.Int64 // when the key was last observed, ns since Breaker.epoch
	polling atomic.Bool  // a request is observing it
	until   atomic.Int64 // end of the latest open period taken from the fleet, ns since Breaker.epoch
}

// neverPolled marks a key no request has observed yet.
const neverPolled = math.MinInt64

// quorum is how many other processes must report a key open, out of
// callers, for this process to open it too.
func (s *settings) quorum(callers int) int {
	return max(s.fleetMinQuorum, int(math.Ceil(s.fleetQuorum*float64(callers))))
}

// pollFleet observes the fleet's view of e's key if it is time to, on the
// request's goroutine (other requests go on without waiting for it), and
// opens the key if a quorum reported it open.
func (b *Breaker) pollFleet(ctx context.Context, e *entry) {
	f := &e.fleet
	now := b.now()
	if p := f.polled.Load(); (p == neverPolled || now-p >= int64(b.s.fleetPoll)) && f.polling.CompareAndSwap(false, true) {
		defer func() {
			// Deferred: a Fleet, hook or logger that panics must not
			// leave the key never polled again.
			f.polled.Store(b.now())
			f.polling.Store(false)
		}()
		b.observe(ctx, e)
	}
}

// observe asks the fleet about e's key and, if a quorum reported it open,
// opens it for the newest report's open period (see [Breaker.hold]).
func (b *Breaker) observe(ctx context.Context, e *entry) {
	v, err := b.s.fleet.Observe(ctx, e.name, b.s.window, e.fleet.sent.Swap(false))
	if !b.noteFleet(ctx, e.name, err) || v.Newest < 0 || v.Open < b.s.quorum(v.Callers) {
		return
	}
	now := b.now()
	// +1: as onTransition, Until is the first instant admitted.
	until := int64(saturate.Add(time.Duration(now)-v.Newest, saturate.Add(b.s.openTimeout, 1)))
	if until <= now || until <= e.fleet.until.Load() {
		return
	}
	e.fleet.until.Store(until)
	if b.hold(e, until) {
		b.flush(ctx, e)
	}
}

// reportFleet tells the fleet about one of this process's own
// transitions: opened, or closed.
func (b *Breaker) reportFleet(ctx context.Context, c StateChange) {
	if b.s.fleet == nil || (c.To != Open && c.To != Closed) {
		return
	}
	b.noteFleet(ctx, c.Key, b.s.fleet.Report(ctx, c.Key, c.To == Open, b.s.window))
}

// noteFleet logs the fleet store's outages, once each, and reports
// whether err is nil.
func (b *Breaker) noteFleet(ctx context.Context, key string, err error) bool {
	switch {
	case err == nil:
		b.outage.Up(ctx, b.s.logger, "breaker", key)
		return true
	case ctx.Err() == nil:
		b.outage.Down(ctx, b.s.logger, "breaker", key, err, time.Now())
	}
	return false
}
