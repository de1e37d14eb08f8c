package quota

import "testing"

// Every known miss names a real target of its dialect, so a renamed target
// cannot leave an entry that matches nothing.
func TestThrottleKnownMisses(t *testing.T) {
	for _, k := range ThrottleKnownMisses {
		found := false
		for _, v := range Targets(Result{Dialect: k.Dialect, Quota: 100}, []Result{{Name: "peer"}}) {
			if len(v.Target) >= len(k.Target) && v.Target[:len(k.Target)] == k.Target {
				found = true
			}
		}
		if !found || k.Why == "" {
			t.Errorf("%v %q matches no target or says no why", k.Dialect, k.Target)
		}
	}
}
