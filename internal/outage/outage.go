// Package outage logs the outages of a store that stages share state
// through (Redis, for a fleet): once when the store has stopped answering
// and the stage is using its local state, and once when it answers again,
// however many requests meet it in between, in the vocabulary of the
// [decision] package (shared_unavailable, shared_resumed).
//
// A blip is not an outage: calls that fail for less than [LogAfter], with
// the next call answered, each fall back alone and log nothing. On a
// loaded machine a process descheduled for a few milliseconds fails the
// calls it had in flight against a Redis that is fine; logging each such
// moment as an outage and its end (a worker of the fleet test logged 7
// pairs in 20 s with Redis up) buries the real outages.
package outage

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/decision"
)

// LogAfter is how long a store must have been failing, with no call
// answered since the first failure, before the outage is logged. It is
// the throttle's threshold for pacing at its share of the quota too: an
// outage begins, for the user, when the stage stops treating the failures
// as one slow spell.
const LogAfter = 250 * time.Millisecond

// Log tracks whether a stage's shared store is answering and logs each
// outage once, when it has lasted LogAfter, and its end once. The zero
// value is a store that answers. It is safe for concurrent use; while the
// store answers, [Log.Up] is one atomic load.
type Log struct {
	failing atomic.Bool // calls are failing: a streak is open

	mu     sync.Mutex // guards since and logged; taken only while failing
	since  time.Time  // the first failure of the streak
	logged bool       // the streak was logged as an outage
}

// Down records a failed call to the store at now and returns how long the
// store has been failing: 0 for the first failure after it answered. The
// first failure at least LogAfter after that one is logged at Warn, with
// its error. A nil logger logs nothing.
func (l *Log) Down(ctx context.Context, logger *slog.Logger, stage, key string, err error, now time.Time) time.Duration {
	l.mu.Lock()
	if !l.failing.Load() {
		l.failing.Store(true)
		l.since, l.logged = now, false
		l.mu.Unlock()
		return 0
	}
	d := max(0, now.Sub(l.since))
	log := d >= LogAfter && !l.logged
	if log {
		l.logged = true
	}
	l.mu.Unlock()
	if log && decision.Enabled(ctx, logger, decision.SharedUnavailable) {
		decision.Emit(ctx, logger, decision.Event{Stage: decision.Stage(stage), Name: decision.SharedUnavailable,
			Host: key, Err: err})
	}
	return d
}

// Failing reports whether the store's last call failed: a streak of
// failures is open.
func (l *Log) Failing() bool { return l.failing.Load() }

// Up records a call the store answered. It ends the failures' streak;
// the end of one that was logged as an outage is logged at Info.
func (l *Log) Up(ctx context.Context, logger *slog.Logger, stage, key string) {
	if !l.failing.Load() {
		return
	}
	l.mu.Lock()
	if !l.failing.Load() {
		l.mu.Unlock()
		return
	}
	l.failing.Store(false)
	logged := l.logged
	l.logged = false
	l.mu.Unlock()
	if logged && decision.Enabled(ctx, logger, decision.SharedResumed) {
		decision.Emit(ctx, logger, decision.Event{Stage: decision.Stage(stage), Name: decision.SharedResumed, Host: key})
	}
}
