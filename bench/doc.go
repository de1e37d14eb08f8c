// Package bench compares tailguard with its Go peers — failsafe-go
// (failsafehttp), cristalhq/hedgedhttp and hashicorp/go-retryablehttp — in
// one process, so that every ratio is taken on the same machine at the same
// moment.
//
// It is a separate module so that tailguard's own go.mod stays free of the
// peers. It holds:
//
//   - [Clients]: every client setup under test, each as a function wrapping a
//     base transport, configured as the peers' documentation recommends and
//     as alike as their APIs allow (3 attempts, 1 hedge);
//   - overhead_test.go: ns/op, B/op and allocs/op of each setup over an
//     in-memory stub transport and over loopback;
//   - cmd/peerlab: the tail lab's arms for every library against one server,
//     one seed, one arrival schedule.
//
// Run, from this directory:
//
//	go test -run '^$' -bench . -count 5 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt
//	go run ./cmd/peerlab
package bench
