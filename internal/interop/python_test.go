package interop

import (
	"path/filepath"
	"testing"
)

// python is Debian's interpreter, which sees the Debian packages
// python3-websocket and python3-websockets (a python3 earlier in PATH, such
// as pyenv's, may not).
const python = "/usr/bin/python3"

func TestPython(t *testing.T) {
	scripts := []struct {
		name, module, pkg, script string
	}{
		{"websocket-client", "websocket", "python3-websocket", "websocket_client_check.py"},
		{"websockets", "websockets", "python3-websockets", "websockets_check.py"},
	}
	for _, s := range scripts {
		t.Run(s.name, func(t *testing.T) {
			needFile(t, python, "Debian's python3")
			needPython(t, python, s.module, s.pkg)
			addr := startDemo(t)
			runScript(t, scriptTimeout, "python", python, filepath.Join(".", s.script), addr)
		})
	}
}

// TestPythonSSE reads the demo's /events with Python's http.client: each
// event must arrive before the server produces the next.
func TestPythonSSE(t *testing.T) {
	needFile(t, python, "Debian's python3")
	addr := startDemo(t)
	runScript(t, scriptTimeout, "python", python, filepath.Join(".", "sse_check.py"), addr)
}
