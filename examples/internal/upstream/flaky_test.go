package upstream

import (
	"testing"
	"time"
)

func TestFlaky(t *testing.T) {
	f := NewFlaky(FlakyConfig{FailRate: 0.3, SlowRate: 0.2, Fast: time.Millisecond, Slow: 5 * time.Millisecond, Seed: 1})
	defer f.Close()
	c := client(t)
	codes := map[int]int{}
	var seq []int
	for range 100 {
		r := get(t, c, f.URL())
		codes[r.StatusCode]++
		seq = append(seq, r.StatusCode)
	}
	total, failed, slow := f.Attempts()
	if total != 100 || failed != codes[503] || codes[200]+codes[503] != 100 {
		t.Errorf("attempts %d, failed %d, codes %v", total, failed, codes)
	}
	if failed < 15 || failed > 45 || slow < 5 || slow > 30 {
		t.Errorf("failed %d, slow %d of 100: far from 30%% and 14%%", failed, slow)
	}
	f.Reset()
	for i := range 100 {
		if r := get(t, c, f.URL()); r.StatusCode != seq[i] {
			t.Fatalf("after Reset attempt %d = %d, want %d (same seed)", i, r.StatusCode, seq[i])
		}
	}
}
