package main

import (
	"fmt"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

// simulateIdeal returns the ideal for the lab's setup, with no overhead:
// each request finishes at min(L1, d + L2), where L1 is the latency of the
// replica the load balancer sent it to (request i to replica i mod n, the
// stall included for replica 0, whose schedule restarts with each round,
// as in the measured runs), L2 a healthy replica's draw and d the fixed
// arms' hedge delay. It simulates o.sim requests, in runs of o.n requests
// split into o.rounds rounds with arrival schedules of their own.
func simulateIdeal(o options) lab.Result {
	r := lab.NewRand(o.seed + 0x1dea1)
	lat := make([]time.Duration, 0, o.sim)
	hedged := 0
	for run := uint64(0); len(lat) < o.sim; run++ {
		i := 0
		for _, part := range lab.Split(lab.Schedule(o.n, o.rate, o.seed+1+run), o.rounds) {
			for _, at := range part {
				l := lab.Steady.Sample(r)
				if i%o.replicas == 0 {
					l = o.stall.Finish(at, l) - at
				}
				if l > o.delay {
					hedged++
					l = min(l, o.delay+lab.Steady.Sample(r))
				}
				lat = append(lat, l)
				i++
			}
		}
	}
	lat = lat[:o.sim]
	return lab.IdealResult(fmt.Sprintf("ideal: min(L1, %s + L2) (sim)", lab.Dur(o.delay)),
		lab.Ideal{Delay: o.delay, Summary: lab.Summarize(lat), Extra: float64(hedged) / float64(len(lat)), Sorted: lat})
}
