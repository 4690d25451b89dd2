package gnet

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLoggerDebugOptIn: gnet's debug and info lines reach the logger only
// with Options.LogDebug; its warnings and errors always do.
func TestLoggerDebugOptIn(t *testing.T) {
	for _, debug := range []bool{false, true} {
		var buf bytes.Buffer
		g := gnetLogger{l: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), debug: debug}
		g.Debugf("debug %d", 1)
		g.Infof("banner %s", "x")
		g.Warnf("warn")
		g.Errorf("error")
		out := buf.String()
		if got := strings.Contains(out, "debug 1") && strings.Contains(out, "banner x"); got != debug {
			t.Errorf("LogDebug %v: debug and info lines logged = %v\n%s", debug, got, out)
		}
		if !strings.Contains(out, "warn") || !strings.Contains(out, "error") {
			t.Errorf("LogDebug %v: warnings or errors missing\n%s", debug, out)
		}
	}
}
