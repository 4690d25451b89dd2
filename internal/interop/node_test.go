package interop

import "testing"

func TestNodeWS(t *testing.T) {
	node := needCommand(t, "node", "Node.js")
	dir := needNodeModules(t, "ws")
	addr := startDemo(t)
	runScript(t, scriptTimeout, dir, node, "echo.mjs", addr)
}
