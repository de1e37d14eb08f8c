package lab

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress draws a one-line progress bar on a terminal. A nil *Progress is
// valid and draws nothing, so callers need no branches when it is off.
// Safe for concurrent use.
type Progress struct {
	w     io.Writer
	total int64
	done  atomic.Int64
	start time.Time

	mu    sync.Mutex // guards label
	label string

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewProgress returns a bar over total steps drawn on w every 100 ms, or
// nil when quiet is set or w is not a terminal: a bar's carriage returns
// would only litter a log or a CI transcript.
func NewProgress(w io.Writer, total int, quiet bool) *Progress {
	if quiet || total <= 0 || !IsTerminal(w) {
		return nil
	}
	p := &Progress{w: w, total: int64(total), start: time.Now(), stop: make(chan struct{})}
	p.wg.Go(p.loop)
	return p
}

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// SetLabel sets the text shown after the bar.
func (p *Progress) SetLabel(s string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.label = s
	p.mu.Unlock()
}

// Add1 counts one step done.
func (p *Progress) Add1() {
	if p != nil {
		p.done.Add(1)
	}
}

// Finish stops drawing and erases the bar.
func (p *Progress) Finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 79))
}

func (p *Progress) loop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.draw()
		}
	}
}

func (p *Progress) draw() {
	p.mu.Lock()
	label := p.label
	p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s", Bar(p.done.Load(), p.total, time.Since(p.start), label))
}

// Bar renders one line: [#####-----]  50%  12s  label.
func Bar(done, total int64, elapsed time.Duration, label string) string {
	const width = 30
	frac := float64(done) / float64(total)
	frac = min(max(frac, 0), 1)
	n := int(frac * width)
	line := fmt.Sprintf("[%s%s] %3.0f%% %4.0fs %s", strings.Repeat("#", n), strings.Repeat("-", width-n),
		100*frac, elapsed.Seconds(), label)
	if len(line) > 79 {
		line = line[:79]
	}
	return fmt.Sprintf("%-79s", line)
}
