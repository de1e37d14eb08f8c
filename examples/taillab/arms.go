package main

import (
	"fmt"
	"net/http"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

// tailguardArms are the setups compared: one line each, as a user would
// write them. Each Wrap runs once per arm, so every arm starts cold
// (adaptive estimates, budgets).
func tailguardArms(o options) []lab.Arm {
	slo := hedge.SLO(o.slo, 0.5)
	// A fresh budget per arm, so that no arm spends another's.
	newBudget := func() *budget.Budget { return budget.New(budget.Config{Ratio: o.budget}) }
	return []lab.Arm{
		{Name: "no hedging"},
		{
			Name: fmt.Sprintf("fixed delay %s", lab.Dur(o.delay)),
			Wrap: func(base http.RoundTripper) http.RoundTripper {
				return hedge.New(hedge.Config{Delay: o.delay, Budget: newBudget()}).Wrap(base)
			},
		},
		{
			Name: fmt.Sprintf("SLO %s (hedge at %s)", lab.Dur(o.slo), lab.Dur(slo[0])),
			Wrap: func(base http.RoundTripper) http.RoundTripper {
				return hedge.New(hedge.Config{Delays: slo, Budget: newBudget()}).Wrap(base)
			},
		},
		{
			// With the flags' defaults this is the zero Config: adaptive
			// at the observed p95, under a budget of 20% extra attempts.
			Name:     fmt.Sprintf("adaptive p%g, budget %g%%", 100*o.quantile, 100*o.budget),
			Headline: true,
			Wrap: func(base http.RoundTripper) http.RoundTripper {
				return hedge.New(hedge.Config{Quantile: o.quantile, Budget: newBudget()}).Wrap(base)
			},
		},
	}
}
