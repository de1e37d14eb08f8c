//go:build race

package testkit

// RaceEnabled reports whether the race detector is on. Allocation counts
// are not exact under it (sync.Pool drops items at random), so tests that
// compare them skip.
const RaceEnabled = true
