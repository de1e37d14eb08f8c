package upstream

import "testing"

func TestSwitch(t *testing.T) {
	s := NewSwitch()
	defer s.Close()
	c := client(t)
	if r := get(t, c, s.URL()); r.StatusCode != 200 {
		t.Fatalf("up: %d", r.StatusCode)
	}
	s.SetDown(true)
	if r := get(t, c, s.URL()); r.StatusCode != 503 {
		t.Fatalf("down: %d", r.StatusCode)
	}
	s.SetDown(false)
	if r := get(t, c, s.URL()); r.StatusCode != 200 {
		t.Fatalf("back up: %d", r.StatusCode)
	}
	if s.Attempts() != 3 {
		t.Errorf("attempts %d", s.Attempts())
	}
}
