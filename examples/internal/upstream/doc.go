// Package upstream holds the small loopback servers the examples misbehave
// with: a flaky and slow one, a throttling one (429 with Retry-After in both
// forms), and one that can be switched down and up.
//
// Every server listens on 127.0.0.1 only, counts the attempts it receives
// (what an upstream pays for a client's resilience), and must be closed.
// All are safe for concurrent use.
package upstream
