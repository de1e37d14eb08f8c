// Package decisiontest holds test helpers about the decision log: a
// logger and observer that panic on a chosen event. It is apart from
// internal/testkit because it imports the decision package, which imports
// idempotency, whose own tests import testkit: in testkit it closed an
// import cycle (go vet ./... failed).
package decisiontest
