package main

import (
	"net/http"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

// Arm names, which the targets look up.
const (
	armNone     = "no hedging"
	armSameURL  = "same URL"
	armReplicas = "replicas"
	armAdaptive = "replicas, adaptive p95"
)

// fixedArm names a fixed-delay arm: "replicas, hedge at 20.0ms".
func fixedArm(kind string, o options) string { return kind + ", hedge at " + lab.Dur(o.delay) }

// arms are the setups compared, one line of configuration each, as a user
// would write them. The fleet's load balancer picks each request's
// replica before any hedge stage sees it: same-URL hedges go to that
// replica again, replica hedges to another one. Each Wrap runs once per
// run, so every arm starts cold. fleet may be nil when only the names
// are wanted.
//
// Every hedging arm has a budget of its own with Ratio o.budget: during a
// pause every request sent to the stalled replica needs a hedge, a third
// of all requests within 200 ms, and the default budget (20% of first
// attempts in every span of up to a second, plus 10) would refuse about
// 40% of them at 1,000 requests per second.
func arms(o options, fleet *lab.Fleet) []lab.Arm {
	balance := func(rt http.RoundTripper) http.RoundTripper { return fleet.Balance(rt) }
	newBudget := func() *budget.Budget { return budget.New(budget.Config{Ratio: o.budget}) }
	var urls []string
	if fleet != nil {
		urls = fleet.URLs()
	}
	return []lab.Arm{
		{Name: armNone, Wrap: balance},
		{Name: fixedArm(armSameURL, o), Wrap: func(base http.RoundTripper) http.RoundTripper {
			return balance(hedge.New(hedge.Config{Delay: o.delay, Budget: newBudget()}).Wrap(base))
		}},
		{Name: fixedArm(armReplicas, o), Wrap: func(base http.RoundTripper) http.RoundTripper {
			return balance(hedge.New(hedge.Config{Delay: o.delay, Budget: newBudget(), Replicas: hedge.Replicas{Addrs: urls}}).Wrap(base))
		}},
		{Name: armAdaptive, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return balance(hedge.New(hedge.Config{Budget: newBudget(), Replicas: hedge.Replicas{Addrs: urls}}).Wrap(base))
		}},
	}
}
