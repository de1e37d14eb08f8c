package breaker

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

func hostURL(i int) string { return fmt.Sprintf("http://h%d.test/", i) }
func hostKey(i int) string { return fmt.Sprintf("http://h%d.test:80", i) }

// TestIdleEviction: keys unused for IdleTTL are dropped when a new key
// arrives; a key used recently is kept.
func TestIdleEviction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{IdleTTL: time.Minute})
		rt := b.Wrap(newStatusStub(200))
		for i := range 100 {
			send(t.Context(), rt, hostURL(i))
		}
		time.Sleep(50 * time.Second)
		send(t.Context(), rt, hostURL(0)) // keeps h0 fresh
		time.Sleep(11 * time.Second)
		if n := len(b.Snapshot()); n != 100 {
			t.Fatalf("%d keys before a new one arrives, want 100 (eviction is lazy)", n)
		}
		send(t.Context(), rt, hostURL(1000))
		got := b.Snapshot()
		if len(got) != 2 || got[0].Key != hostKey(0) || got[1].Key != hostKey(1000) {
			t.Fatalf("after eviction: %+v; want h0 and h1000", got)
		}
	})
}

// TestOpenNotEvicted: a key in its open period survives idle eviction and
// MaxKeys pressure; after its open period it may go.
func TestOpenNotEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{ConsecutiveFailures: 1, OpenTimeout: 5 * time.Minute, IdleTTL: time.Minute, MaxKeys: 1})
		stub := newStatusStub(500)
		rt := b.Wrap(stub)
		send(t.Context(), rt, hostURL(0)) // h0 opens
		stub.status.Store(200)
		time.Sleep(2 * time.Minute)
		send(t.Context(), rt, hostURL(1)) // sweep and MaxKeys: h0 stays
		if got := len(b.Snapshot()); got != 2 {
			t.Fatalf("%d keys, want 2: MaxKeys is exceeded rather than forget an open key", got)
		}
		if _, err := send(t.Context(), rt, hostURL(0)); err == nil {
			t.Fatal("h0 must still be open")
		}
		time.Sleep(4 * time.Minute) // past h0's open period and h1's idle TTL
		send(t.Context(), rt, hostURL(2))
		if got := b.Snapshot(); len(got) != 1 || got[0].Key != hostKey(2) {
			t.Fatalf("got %+v, want only h2", got)
		}
	})
}

// TestMaxKeys: the registry never holds more than MaxKeys closed keys, and
// the least recently used go first.
func TestMaxKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{MaxKeys: evictSamples})
		rt := b.Wrap(newStatusStub(200))
		for i := range 1000 {
			send(t.Context(), rt, hostURL(i))
			time.Sleep(time.Second) // distinct lastUsed stamps
			if n := len(b.entries); n > evictSamples {
				t.Fatalf("after %d keys the registry holds %d, want ≤ %d", i+1, n, evictSamples)
			}
		}
		// With MaxKeys equal to the sample size every entry is compared,
		// so eviction is exact LRU: the last 8 hosts remain.
		for i := 992; i < 1000; i++ {
			if b.entries[key{"http", fmt.Sprintf("h%d.test", i), 80}] == nil {
				t.Errorf("h%d was evicted; snapshot %+v", i, b.Snapshot())
			}
		}
	})
}

// TestManyHostsBounded: 20,000 distinct hosts, ten new ones a second, never
// hold more than IdleTTL's worth of keys, twice over (sweeps are at most
// IdleTTL apart).
func TestManyHostsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{})
		rt := b.Wrap(newStatusStub(200))
		perTTL := int(DefaultIdleTTL / (100 * time.Millisecond))
		peak := 0
		for i := range 20000 {
			send(t.Context(), rt, hostURL(i))
			b.mu.RLock()
			peak = max(peak, len(b.entries))
			b.mu.RUnlock()
			time.Sleep(100 * time.Millisecond)
		}
		if peak > 2*perTTL+1 {
			t.Errorf("peak %d keys, want ≤ %d", peak, 2*perTTL+1)
		}
		if peak < perTTL {
			t.Errorf("peak %d keys: evicted before IdleTTL (%d)", peak, perTTL)
		}
	})
}
