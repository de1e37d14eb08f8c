package quota

import (
	"net/http"

	"github.com/tailguard/tailguard/examples/lab"
	"github.com/tailguard/tailguard/retry"
)

// Names of the tailguard arms, as tables and tests refer to them.
const (
	ArmPlain = "plain"
	ArmRetry = "tailguard retry"
)

// TailguardArms are the quota lab's tailguard setups, each as a user
// would write it (every Config zero): a plain client for reference, then
// the retry stage alone. Each Wrap builds fresh state.
func TailguardArms() []lab.Arm {
	return []lab.Arm{
		{Name: ArmPlain},
		{Name: ArmRetry, Wrap: func(base http.RoundTripper) http.RoundTripper {
			return retry.New(retry.Config{}).Wrap(base)
		}},
	}
}
