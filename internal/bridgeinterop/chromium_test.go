package bridgeinterop

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzhttp"
)

// chromiumPage loads a JSON document with fetch() and a gzipped text with
// another, and writes what it got into the page.
const chromiumPage = `<!doctype html><html><body><p id="item">pending</p><p id="big">pending</p>
<script>
fetch('/app/items/7').then(r => r.json()).then(j => { document.getElementById('item').textContent = 'item:' + j.name })
  .catch(e => { document.getElementById('item').textContent = 'error:' + e });
fetch('/app/big').then(r => r.text()).then(t => { document.getElementById('big').textContent = 'big:' + t.length })
  .catch(e => { document.getElementById('big').textContent = 'error:' + e });
</script></body></html>`

// TestChromium has headless Chromium load a page from a ServeMux behind
// gzhttp through the bridge, whose script fetches JSON and a compressed
// text; the DOM Chromium dumps shows what the script received.
func TestChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		needCommand(t, "chromium") // skips, or fails when required
	}
	big := strings.Repeat("0123456789", 10000)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, chromiumPage) })
	mux.HandleFunc("GET /app/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`","name":"seventh"}`)
	})
	var sawGzip atomic.Bool
	mux.HandleFunc("GET /app/big", func(w http.ResponseWriter, r *http.Request) {
		sawGzip.Store(strings.Contains(r.Header.Get("Accept-Encoding"), "gzip"))
		io.WriteString(w, big)
	})
	s := startBridge(t, false, "/app/", gzhttp.GzipHandler(mux))

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", s.base+"/app/")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	dom := string(out)
	if !strings.Contains(dom, "item:seventh") || !strings.Contains(dom, "big:100000") {
		t.Errorf("DOM:\n%s", dom)
	}
	if !sawGzip.Load() {
		t.Error("Chromium did not offer gzip")
	}
}
