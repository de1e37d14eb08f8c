// Package decision is the shared vocabulary of the stages' decision log:
// every stage (hedge, its server-side middleware, retry, breaker, throttle)
// describes each decision it takes as one [Event], with the same names for
// the same things, and records it through the [log/slog.Logger] on its
// Config and through the [Observer] found in the request's context.
//
// A stage's Logger is nil by default, and then the stage logs nothing; an
// Observer is put in a context by an instrumentation (the oteltailguard
// module turns events into OpenTelemetry metrics and span events), never
// by the stages. A stage builds an event only after [Enabled] said that
// someone takes it, so a silent stage — nil logger, or a logger whose level
// drops the event, and no observer — allocates nothing for its decisions.
//
// # Records
//
// A record's message is a few words for people ([Name.Message]); its
// attributes are the stable part, always in this order and left out when
// zero:
//
//	stage    the deciding stage: hedge, hedge_middleware, retry, breaker, throttle
//	event    what was decided (the table below)
//	host     the upstream, "scheme://host:port" (or a user's breaker/throttle key)
//	attempt  the attempt decided about, 1 for the first
//	reason   why (the table below)
//	wait     how long (see the table)
//	status   the HTTP status of the response decided about
//	error    the error decided about
//
// A breaker's state_change also has from, to, successes and failures.
//
// # Events
//
// Levels: routine decisions at Debug, state changes at Info, give-ups at
// Warn.
//
//	event              level  stages              reasons                                          wait
//	hedge              Debug  hedge, middleware   delay, failure                                   time since the request started
//	hedge_denied       Debug  hedge, middleware   budget, body, replica (hedge)                    -
//	hedging_stopped    Debug  hedge, middleware   pushback                                         -
//	hedge_won          Debug  hedge, middleware   -                                                -
//	retry              Debug  retry               backoff, retry_after                             the wait before the retry
//	not_retried        Debug  retry               final, fatal, rejected, hedge_resent             -
//	gave_up            Warn   retry               not_replayable, attempts_exhausted, budget,      the Retry-After asked, for
//	                                              deadline, retry_after_too_long, body             retry_after_too_long
//	rejected           Debug  breaker, throttle   open, half_open; gate, pace, adaptive,           until it could have gone (0: unknown)
//	                                              concurrency
//	throttled          Debug  throttle            gate, pace, adaptive, concurrency (longest)      how long it waited
//	paused             Info   throttle            pushback, fleet                                  the pause
//	state_change       Info   breaker             failures, fleet, open_timeout, probe_failed,     -
//	                                              probes_succeeded
//	shared_unavailable Warn   breaker, throttle   -                                                -
//	shared_resumed     Info   breaker, throttle   -                                                -
//	outcome            Debug  hedge, middleware,  the outcome's kind: success, final, transient,   -
//	                          retry (outermost)   throttled, canceled, fatal, rejected
//	panic_dropped      Warn   hedge, middleware   -                                                -
//
// For an outcome, attempt is the number of attempts made (retry) or the
// winning attempt, 0 when none won (hedge): a hedged request won by its
// hedge has attempt=2. A hedge_won's attempt is the hedge that won, its
// status what it won with. A panic_dropped's error holds the panic's
// value and the stack where it was recovered.
//
// # Outcomes
//
// A logical request — what the caller passed to the pipeline, or what a
// server with a hedge.Middleware received — gets exactly one outcome
// record, from the stage that decides what the caller gets back: the
// outermost stage that records outcomes (a hedge, a retry, a
// middleware). A stage serving one attempt of an enclosing retry or hedge
// stage (its request's context carries that stage's attempt mark) records
// its decisions — retries, give-ups, hedges — but no outcome: its result
// is an attempt, which the enclosing stage retries, races or returns. So
// in hedge(retry(...)) the hedge records the outcome and the retry stage
// none, in retry(hedge(...)) the reverse, and an attempt canceled because
// another won records nothing: its loss is the winner's hedge_won and the
// outcome's attempt. A middleware's run is not an attempt of a client
// stage: a client pipeline its handler calls records its own outcome.
//
// # Attempts
//
// [AttemptOf] tells a base transport, or an instrumentation around it,
// which attempt a request is (original, retry or hedge) from the marks the
// stages put in its context.
package decision
