package interop

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// chromiumPath is Debian's Chromium; playwright-core drives it instead of a
// browser build of its own, which this machine could not download.
const chromiumPath = "/usr/bin/chromium"

// TestBrowser opens the demo page in headless Chromium. The screenshot is
// written to EVHTTPD_INTEROP_SCREENSHOT when set (to look at it), else to
// the test's temporary directory.
func TestBrowser(t *testing.T) {
	needFile(t, chromiumPath, "Debian package chromium")
	node := needCommand(t, "node", "Node.js")
	dir := needNodeModules(t, "playwright-core")
	addr := startDemo(t)

	shot := os.Getenv("EVHTTPD_INTEROP_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "demo.png")
	} else if !filepath.IsAbs(shot) {
		t.Fatalf("EVHTTPD_INTEROP_SCREENSHOT=%q must be an absolute path", shot)
	}
	runScript(t, browserTimeout, dir, node, "browser.mjs", addr, shot)

	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
		t.Fatalf("screenshot %s is %d bytes and not a PNG image", shot, len(png))
	}
}
