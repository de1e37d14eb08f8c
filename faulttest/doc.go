// Package faulttest proves, against real loopback servers that misbehave on
// purpose, that tailguard's stages keep their promise under faults, bad
// input and load: the caller always gets a response with a readable body or
// an error naming a documented cause, within a bound set by the
// configuration; no request body arrives truncated or altered; a POST
// without an Idempotency-Key reaches the server at most once; and no
// goroutine, file descriptor or response body is leaked.
//
// The package holds tests only; this file exists so that the directory is a
// package. The suite runs with the module's normal test command:
//
//	go test -race ./...
//
// which includes the soak (50 concurrent callers through the recommended
// pipeline, then through the throttle pipeline, against ten hosts that
// each fail their own way, for 4 s or 20,000 calls each, whichever ends
// first, and at least 400 calls when the machine is slow; -soak.duration
// and -soak.requests change both).
// `go test -short ./faulttest/` skips the soak.
//
// # Layout
//
//   - matrix_test.go: every fault × every stage arrangement (retry, breaker,
//     hedge alone; hedge→retry→breaker; retry→hedge→breaker;
//     hedge→retry→throttle→breaker), with the expected outcome of each
//     cell written in the table;
//   - cross_test.go: cells where stages interact (a hedge against a
//     half-open breaker, retry against an open breaker, retry and hedge
//     sharing one budget, attempt timeouts against a black hole);
//   - throttle_test.go: the throttle in the recommended pipeline on the
//     fake clock: one request per second against a permanent "429,
//     Retry-After: 1" whatever the number of callers, and an open breaker
//     inside still refusing at once;
//   - outage_test.go: an HTTP/2 server violating the protocol in its
//     response headers, in every arrangement, and a whole host outage
//     through the recommended pipeline (fail fast while open, and with the
//     breaker's MaxWait);
//   - badinput_test.go: nil, empty and failing request bodies, canceled
//     contexts and nil response bodies, for each stage;
//   - config_test.go: invalid configurations panic naming the field;
//   - fuzz_test.go: the SLO schedule builder (Retry-After parsing and the
//     classifier are fuzzed in package idempotency);
//   - deadline_test.go: an attempt timeout racing the caller's deadline;
//   - soak_test.go, soakmix_test.go, soaktally_test.go, soakh2bad_test.go:
//     the soak, its hosts and faults, what its callers observed, by host,
//     and its HTTP/2 host violating the protocol;
//   - bugs_test.go: cells that currently fail because of a stage bug, with
//     the bug; they are skipped with "BUG: …" while every invariant check
//     still runs, and say so once the bug is fixed;
//   - readme_test.go: keeps docs/reliability.md's matrix table equal to the test's.
//
// The faults come from [github.com/tailguard/tailguard/internal/testkit]'s
// FaultServer.
package faulttest
