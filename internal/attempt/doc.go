// Package attempt carries, in a request's context, which attempt of a retry
// or hedge stage a request is, so inner stages can see it without the stage
// packages importing each other.
//
// A mark also names the budget the stage charged for the logical request, so
// that a retry stage inside a hedge stage (or the reverse) sharing one
// [budget.Budget] deposits each caller request once, not once per stage.
//
// A [Feedback] travels the other way: an enclosing race (the hedge stage)
// listens, and inner stages report what they learnt about an attempt, such
// as a pause the upstream asked for. A [Waiter] hears, the same way, that
// an inner stage holds the request back locally before sending it, so
// that an enclosing attempt timeout does not count the wait.
package attempt
