package hedge

import "sync/atomic"

// Stats are cumulative counters of a [Hedger] since [New], or of a
// [Middleware] since [NewMiddleware] (where an attempt is a run of the
// handler). They never decrease. Each is read atomically, but a Stats value
// is not a snapshot of one instant: counters of requests in flight may be
// mid-update. Every field is a count; one, Hedgeable, is derived from
// three others when the Stats is taken, as database/sql's
// DBStats.OpenConnections is from InUse and Idle.
type Stats struct {
	// Requests counts every request the stage received.
	Requests uint64
	// Hedgeable counts requests the stage could hedge, whether or not a
	// hedge then fired: Requests less PassThrough and Skipped, derived
	// when the Stats is taken rather than counted, so that one Stats
	// value always has Hedgeable + PassThrough + Skipped == Requests —
	// except that a request arriving while the Stats is taken may be
	// counted in PassThrough or Skipped but not yet in Requests, leaving
	// Hedgeable that much short (never below zero).
	Hedgeable uint64
	// Hedged counts requests that sent at least one hedge.
	Hedged uint64
	// Hedges counts hedges sent (not counting original attempts).
	Hedges uint64
	// OriginalWins counts requests won by the original attempt: it was
	// the first success or final client error.
	OriginalWins uint64
	// HedgeWins counts requests won by a hedge.
	HedgeWins uint64
	// Failed counts hedgeable requests that no attempt won (every attempt
	// failed, or the caller gave up); the most useful outcome is returned.
	Failed uint64
	// BudgetDenied counts hedges not sent because the budget refused them.
	BudgetDenied uint64
	// Deferred counts, in adaptive mode, times a hedge due on its delay
	// was put off because the host's delay hedges already ran above
	// twice 1 − Quantile of its requests in the last second: the
	// upstream has slowed faster than the estimate followed (see
	// [Hedger], "Adaptive delay"). A hedge put off is asked for again at
	// twice the time elapsed, so one request may count several times.
	Deferred uint64
	// PassThrough counts requests sent unhedged because the classifier
	// does not call them replayable (POST without Idempotency-Key, a body
	// that cannot be replayed or is above the buffering limit), because
	// they ask for a protocol upgrade, and, for a Middleware, because the
	// request announces a streaming response.
	PassThrough uint64
	// Skipped counts requests sent unhedged because [Config.Skip] said so.
	Skipped uint64
	// DroppedPanics counts panics that no caller was left to receive: an
	// attempt's (its transport, the classifier, a hook) after another
	// attempt had won, or the decision log's while recording a decided
	// race. Each is recovered, recorded in the decision log as
	// panic_dropped (Warn) with its stack, and dropped; a panic before
	// the decision is raised again by RoundTrip instead (see "Panics" on
	// [Hedger]). For a [Middleware], a run that panicked and lost.
	DroppedPanics uint64
}

// counters is the live form of Stats. Each counter is written once or twice
// per request; false sharing between them costs less than the padding
// would in memory for the rare contended case.
type counters struct {
	requests, hedged, hedges, originalWins, hedgeWins, failed,
	budgetDenied, deferred, passThrough, skipped, droppedPanics atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Requests:      c.requests.Load(),
		Hedged:        c.hedged.Load(),
		Hedges:        c.hedges.Load(),
		OriginalWins:  c.originalWins.Load(),
		HedgeWins:     c.hedgeWins.Load(),
		Failed:        c.failed.Load(),
		BudgetDenied:  c.budgetDenied.Load(),
		Deferred:      c.deferred.Load(),
		PassThrough:   c.passThrough.Load(),
		Skipped:       c.skipped.Load(),
		DroppedPanics: c.droppedPanics.Load(),
	}
	// Requests is counted first and read first, so the other two may have
	// caught up with requests it did not see yet.
	if n := s.PassThrough + s.Skipped; n < s.Requests {
		s.Hedgeable = s.Requests - n
	}
	return s
}
