package main

import (
	"fmt"

	"github.com/tailguard/tailguard/examples/lab"
)

// The targets (issue 16).
const (
	// maxOverIdeal: replica hedging's p99.9 within 1.2× the ideal's.
	maxOverIdeal = 1.2
	// maxOfSameURL: on HTTP/2 replica hedging's p99.9 clearly below
	// same-URL hedging's, read as at most half of it.
	maxOfSameURL = 0.5
)

// verdict is one target, checked.
type verdict struct {
	network lab.Network
	target  string
	met     bool
	detail  string
}

func (v verdict) String() string {
	mark := "met"
	if !v.met {
		mark = "MISSED"
	}
	return fmt.Sprintf("%s: %s — %s (%s)", v.network, v.target, mark, v.detail)
}

// check returns the targets' verdicts for one network's results. The
// second target is the for HTTP/2; it is checked on the fake
// clock too, where it must hold as well.
func check(o options, network lab.Network, results []lab.Result, ideal lab.Result) []verdict {
	replicas, same := find(results, fixedArm(armReplicas, o)), find(results, fixedArm(armSameURL, o))
	out := []verdict{{
		network: network,
		target:  fmt.Sprintf("replica hedging's p99.9 within %.1f× the ideal's", maxOverIdeal),
		met:     float64(replicas.P999) <= maxOverIdeal*float64(ideal.P999),
		detail:  fmt.Sprintf("%s vs %s: %.2f×", lab.Dur(replicas.P999), lab.Dur(ideal.P999), float64(replicas.P999)/float64(ideal.P999)),
	}}
	if network != lab.HTTP1 {
		out = append(out, verdict{
			network: network,
			target:  fmt.Sprintf("replica hedging's p99.9 at most %.1f× same-URL hedging's", maxOfSameURL),
			met:     float64(replicas.P999) <= maxOfSameURL*float64(same.P999),
			detail:  fmt.Sprintf("%s vs %s: %.2f×", lab.Dur(replicas.P999), lab.Dur(same.P999), float64(replicas.P999)/float64(same.P999)),
		})
	}
	return out
}

// find returns the result of the arm named name.
func find(results []lab.Result, name string) lab.Result {
	for _, r := range results {
		if r.Name == name {
			return r
		}
	}
	panic("replicalab: no arm " + name)
}
