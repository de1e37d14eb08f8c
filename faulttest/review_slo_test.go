package faulttest_test

import (
	"math"
	"testing"
	"time"

	"github.com/tailguard/tailguard/hedge"
)

func TestSLOHuge(t *testing.T) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("SLO(MaxInt64, 1) panicked: %v", p)
		}
	}()
	t.Log(hedge.SLO(time.Duration(math.MaxInt64), 1))
}
