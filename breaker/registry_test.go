package breaker

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

func hostURL(i int) string { return fmt.Sprintf("http://h%d.test/", i) }
func hostKey(i int) string { return fmt.Sprintf("http://h%d.test:80", i) }

// TestIdleEviction: keys unused for IdleTTL are dropped as new keys
// arrive, up to evictScan of them looked at per new key, so every idle key
// is gone once ⌈keys/evictScan⌉ new keys have arrived; a key used
// recently is kept.
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
		if n := len(b.Snapshot()); n < 100-evictScan+1 {
			t.Fatalf("%d keys after one new key, want at least %d: at most %d looked at", n, 100-evictScan+1, evictScan)
		}
		sweep := (100 + evictScan - 1) / evictScan
		for i := 1; i < sweep; i++ {
			send(t.Context(), rt, hostURL(1000+i))
		}
		got := b.Snapshot()
		if len(got) != 1+sweep || got[0].Key != hostKey(0) {
			t.Fatalf("after %d new keys: %d keys %+v; want h0 and the new ones", sweep, len(got), got)
		}
	})
}

// TestMaxKeys: the registry never holds more than MaxKeys closed keys, and
// the least recently used go first.
func TestMaxKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxKeys = 8 // below evictScan: every entry is compared
		b := New(Config{MaxKeys: maxKeys})
		rt := b.Wrap(newStatusStub(200))
		for i := range 1000 {
			send(t.Context(), rt, hostURL(i))
			time.Sleep(time.Second) // distinct lastUsed stamps
			if n := len(b.entries); n > maxKeys {
				t.Fatalf("after %d keys the registry holds %d, want ≤ %d", i+1, n, maxKeys)
			}
		}
		// With MaxKeys equal to the sample size every entry is compared,
		// so eviction is exact LRU: the last 8 hosts remain.
		for i := 992; i < 1000; i++ {
			if b.entries[key{Scheme: "http", Host: fmt.Sprintf("h%d.test", i), Port: 80}] == nil {
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

// TestInFlightKeysExceedMaxKeysThenShrink: keys with requests in flight
// are never evicted, so 40 of them hold the registry above MaxKeys (10);
// once they settle, each new key evicts two until the bound holds again.
func TestInFlightKeysExceedMaxKeysThenShrink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := newStatusStub(200)
		stub.delay.Store(int64(time.Minute))
		b := New(Config{MaxKeys: 10})
		rt := b.Wrap(stub)
		for i := range 40 {
			go send(t.Context(), rt, hostURL(i))
		}
		synctest.Wait()
		if n := len(b.entries); n != 40 {
			t.Fatalf("%d keys with requests in flight tracked, want all 40", n)
		}
		time.Sleep(time.Minute) // they settle
		synctest.Wait()
		stub.delay.Store(0)
		for i := range 30 {
			send(t.Context(), rt, hostURL(100+i))
			if n, want := len(b.entries), max(10, 40-i); n > want {
				t.Fatalf("after %d new keys: %d tracked, want ≤ %d", i+1, n, want)
			}
		}
		if n := len(b.entries); n != 10 {
			t.Errorf("%d keys tracked in the end, want MaxKeys (10)", n)
		}
	})
}
