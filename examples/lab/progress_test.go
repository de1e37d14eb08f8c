package lab

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressOffWhenNotTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 10, false)
	if p != nil {
		t.Fatal("progress on a bytes.Buffer")
	}
	// A nil Progress is usable.
	p.SetLabel("x")
	p.Add1()
	p.Finish()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

func TestBar(t *testing.T) {
	got := Bar(5, 10, 3*time.Second, "arm")
	if !strings.HasPrefix(got, "[###############---------------]  50%    3s arm") || len(got) != 79 {
		t.Errorf("Bar = %q", got)
	}
	if got := Bar(20, 10, 0, ""); !strings.Contains(got, "100%") {
		t.Errorf("Bar over total = %q", got)
	}
}
