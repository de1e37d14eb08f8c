package breaker

import (
	"context"
	"math"
	"sync/atomic"
	"time"
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
// opens by its own trip rules, closed when it closes. It never reports an
// open state it took from the fleet, so the fleet cannot talk itself into
// an outage. At most once per Config.FleetPoll per key, on a request's
// goroutine (other requests do not wait for it), it observes the key: if
// at least a quorum of the processes that called the key within
// Config.Window have reported it open, max(Config.FleetMinQuorum,
// ⌈Config.FleetQuorum × callers⌉, callers being the processes that sent
// requests to the key), it refuses requests to the key as open
// until the newest report's open period (Config.OpenTimeout) ends, then
// lets requests through to its own breaker again. Fewer reports change
// nothing: one bad node (its own network, its own DNS) cannot poison the
// others, which is Polly's objection to shared breaker state (proposal
// #287). The first request to a key observes it before it is sent.
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
	// it last observed it. A process that refuses every request to key
	// (because the fleet holds it open) is no caller: counting it would
	// raise the quorum the reporting processes must reach.
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
	sent    atomic.Bool               // a request went past the fleet's gate since the last observation
	polled  atomic.Int64              // when the key was last observed, ns since Breaker.epoch
	polling atomic.Bool               // a request is observing it
	until   atomic.Int64              // refused as open before this instant, ns since Breaker.epoch
	refusal atomic.Pointer[OpenError] // the refusal of that open period
}

// neverPolled marks a key no request has observed yet.
const neverPolled = math.MinInt64

// quorum is how many other processes must report a key open, out of
// callers, for this process to open it too.
func (s *settings) quorum(callers int) int {
	return max(s.fleetMinQuorum, int(math.Ceil(s.fleetQuorum*float64(callers))))
}

// fleetGate refuses req's key while the fleet holds it open, observing
// the fleet first if it is time to. It returns nil to let the request go
// on to e's own breaker.
func (b *Breaker) fleetGate(ctx context.Context, e *entry) *OpenError {
	f := &e.fleet
	now := b.now()
	if p := f.polled.Load(); (p == neverPolled || now-p >= int64(b.s.fleetPoll)) && f.polling.CompareAndSwap(false, true) {
		b.observe(ctx, e)
		f.polled.Store(b.now())
		f.polling.Store(false)
	}
	if now < f.until.Load() {
		return f.refusal.Load()
	}
	if !f.sent.Load() {
		f.sent.Store(true)
	}
	return nil
}

// observe asks the fleet about e's key and opens it for the newest
// report's open period if a quorum reported it open.
func (b *Breaker) observe(ctx context.Context, e *entry) {
	v, err := b.s.fleet.Observe(ctx, e.name, b.s.window, e.fleet.sent.Swap(false))
	if !b.noteFleet(ctx, e.name, err) || v.Newest < 0 || v.Open < b.s.quorum(v.Callers) {
		return
	}
	now := b.now()
	until := now - int64(v.Newest) + int64(b.s.openTimeout) + 1 // +1: as onTransition, Until is the first instant admitted
	if until <= now || until <= e.fleet.until.Load() {
		return
	}
	e.fleet.refusal.Store(&OpenError{Key: e.name, State: Open, Until: b.epoch.Add(time.Duration(until))})
	e.fleet.until.Store(until)
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
