package gnet

import (
	"context"
	"fmt"
	"log/slog"
)

// gnetLogger routes gnet's logging.Logger calls to slog: gnet's Debug and
// Info at Debug and only with Options.LogDebug (gnet logs its start-up
// banner at Info), Warn at Warn, Error and Fatal at Error. gnet never gets
// to exit the process through it.
type gnetLogger struct {
	l     *slog.Logger
	debug bool
}

func (g gnetLogger) Debugf(format string, args ...any) { g.chatter(format, args) }
func (g gnetLogger) Infof(format string, args ...any)  { g.chatter(format, args) }

// chatter logs gnet's debug and info lines when they were asked for.
func (g gnetLogger) chatter(format string, args []any) {
	if g.debug {
		g.logf(slog.LevelDebug, format, args)
	}
}
func (g gnetLogger) Warnf(format string, args ...any)  { g.logf(slog.LevelWarn, format, args) }
func (g gnetLogger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args) }
func (g gnetLogger) Fatalf(format string, args ...any) { g.logf(slog.LevelError, format, args) }

func (g gnetLogger) logf(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !g.l.Enabled(ctx, level) {
		return
	}
	g.l.Log(ctx, level, fmt.Sprintf(format, args...), "component", "gnet")
}
