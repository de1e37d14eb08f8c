package main

import (
	"fmt"
	"net/http"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/hedge"
)

// tailguardArms are the setups compared: one line each, as a user would
// write them. Each Wrap runs once per arm, so every arm starts cold
// (adaptive estimates, budgets).
func tailguardArms(o options) []lab.Arm {
	slo := hedge.SLO(o.slo, 0.5)
	return []lab.Arm{
		{Name: "no hedging"},
		{
			Name: fmt.Sprintf("fixed delay %s", lab.Dur(o.delay)),
			Wrap: func(base http.RoundTripper) http.RoundTripper {
				return hedge.New(hedge.Config{Delay: o.delay}).Wrap(base)
			},
		},
		{
			Name: fmt.Sprintf("SLO %s (hedge at %s)", lab.Dur(o.slo), lab.Dur(slo[0])),
			Wrap: func(base http.RoundTripper) http.RoundTripper {
				return hedge.New(hedge.Config{Delays: slo}).Wrap(base)
			},
		},
		{
			// The zero Config: adaptive at the observed p95, under a
			// private budget of 10% extra attempts.
			Name: "adaptive p95, budget 10%",
			Wrap: func(base http.RoundTripper) http.RoundTripper {
				return hedge.New(hedge.Config{}).Wrap(base)
			},
		},
	}
}
