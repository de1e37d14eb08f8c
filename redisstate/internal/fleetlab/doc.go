// Package fleetlab runs a fleet of real OS processes against one quota:
// the multi-process test of the redisstate module and its example.
//
// A run has groups of workers. Each worker is a process (the test binary
// or the example, re-executed with [EnvWorker] set; see [Serve]) that
// offers an open-loop Poisson stream of requests through a throttle, shared
// through Redis or local only, to one [Upstream]: the quota lab's server
// (examples/lab/quota) behind a loopback listener, which logs every
// arrival with the worker that sent it and can answer one request with a
// pause (Retry-After) on demand. Each group has its own quota key, so
// groups run side by side without touching each other's quota.
//
// Workers report every request's fate, every call to the shared store
// (when and how long), and every line their throttle logged; [Analyze]
// turns those and the upstream's log into per-phase measures.
package fleetlab
