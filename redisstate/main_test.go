package redisstate

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tailguard/tailguard/redisstate/internal/redisserver"
)

// testRedis starts a real redis-server for t and returns a client for it
// with context deadlines honoured, as New requires. Both are closed when t
// ends.
func testRedis(t testing.TB) (*redisserver.Server, *redis.Client) {
	t.Helper()
	srv := redisserver.Test(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	return srv, rdb
}

// generous bounds each call to Redis in the tests of what the scripts do,
// rather than of the bound itself: on a loaded 2-core machine under the
// race detector a call now and then takes longer than DefaultTimeout
// (5 ms), and the test would see the fallback instead of the script.
const generous = time.Second

// newStore returns a ready store on rdb.
func newStore(t testing.TB, rdb *redis.Client, cfg Config) *Store {
	t.Helper()
	s := New(rdb, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// waitProbed waits until s's background probe has ended, so that goleak
// finds no goroutine of it.
func waitProbed(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(2 * ProbeTimeout)
	for s.health.state.Load() == stateProbing {
		if time.Now().After(deadline) {
			t.Fatal("probe still running after twice ProbeTimeout")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// commandCalls returns how many times Redis ran the command name (as
// INFO commandstats spells it, "script|load" for SCRIPT LOAD) since the
// last CONFIG RESETSTAT.
func commandCalls(t *testing.T, rdb *redis.Client, name string) int {
	t.Helper()
	stats, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^cmdstat_` + regexp.QuoteMeta(name) + `:calls=(\d+),`).FindStringSubmatch(stats)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
