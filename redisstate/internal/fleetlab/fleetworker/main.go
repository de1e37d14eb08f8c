// Command fleetworker is one worker process of a fleetlab run, built by
// the multi-process test without the race detector: the workers play
// production processes, whose calls to Redis must fit a 5 ms bound that a
// race-instrumented binary on a loaded machine would miss. The code they
// run is race-tested by the unit tests.
package main

import (
	"fmt"
	"os"

	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
)

func main() {
	fleetlab.Serve() // exits when run as a worker
	fmt.Fprintln(os.Stderr, "fleetworker: run by fleetlab.Spawn only (", fleetlab.EnvWorker, "unset )")
	os.Exit(2)
}
