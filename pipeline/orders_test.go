package pipeline_test

import (
	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// throttleOrders are the documented orders with a throttle (see
// docs/pipeline-order.md), each over th: the recommended
// hedge→retry→throttle→breaker, the throttle inside the breaker, the
// throttle outside retry, retry outside hedge, and the throttle alone.
var throttleOrders = map[string]func(th *throttle.Throttle) []pipeline.Stage{
	"throttle": func(th *throttle.Throttle) []pipeline.Stage { return []pipeline.Stage{th} },
	"hedge→retry→throttle→breaker": func(th *throttle.Throttle) []pipeline.Stage {
		return []pipeline.Stage{hedge.New(hedge.Config{}), retry.New(retry.Config{}), th, breaker.New(breaker.Config{})}
	},
	"hedge→retry→breaker→throttle": func(th *throttle.Throttle) []pipeline.Stage {
		return []pipeline.Stage{hedge.New(hedge.Config{}), retry.New(retry.Config{}), breaker.New(breaker.Config{}), th}
	},
	"throttle→retry→breaker": func(th *throttle.Throttle) []pipeline.Stage {
		return []pipeline.Stage{th, retry.New(retry.Config{}), breaker.New(breaker.Config{})}
	},
	"retry→hedge→throttle→breaker": func(th *throttle.Throttle) []pipeline.Stage {
		return []pipeline.Stage{retry.New(retry.Config{}), hedge.New(hedge.Config{}), th, breaker.New(breaker.Config{})}
	},
}
