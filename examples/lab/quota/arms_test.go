package quota

import (
	"net/http"
	"testing"
)

func TestTailguardArms(t *testing.T) {
	arms := TailguardArms()
	if len(arms) < 2 || arms[0].Name != ArmPlain || arms[0].Wrap != nil || arms[1].Name != ArmRetry {
		t.Fatalf("arms %+v", arms)
	}
	for _, a := range arms[1:] {
		if a.Wrap(http.DefaultTransport) == nil {
			t.Errorf("%s wrapped to nil", a.Name)
		}
	}
}
