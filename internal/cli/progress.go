package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws "Resolving images 12/40" on one terminal line while a run
// is long, and nothing at all when stderr is not a terminal: logs and pipes
// should not fill with carriage returns.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	started time.Time
	drawn   bool
}

// newProgress returns nil (a no-op) unless w is a terminal.
func newProgress(s Streams, label string) *progress {
	if !s.IsTTY(s.Err) {
		return nil
	}
	return &progress{w: s.Err, label: label, started: time.Now()}
}

// update is safe on a nil progress. It waits half a second before drawing
// anything, so quick runs print no progress at all.
func (p *progress) update(done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.started) < 500*time.Millisecond && done < total {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d", p.label, done, total)
	p.drawn = true
}

// done clears the line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
