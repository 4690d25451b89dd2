//go:build !amd64 && !arm64

package ws

func maskBlocks(k64 uint64, b []byte) { maskGeneric(k64, b) }
