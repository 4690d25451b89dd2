//go:build amd64 || arm64

package ws

import "unsafe"

// maskBlocks XORs k64 into b, whose length is a multiple of 64, through
// native 64-bit loads and stores. Both architectures are little-endian (so k64
// built with binary.LittleEndian lines up with memory order) and allow
// unaligned word access, and the pointer loop avoids the per-slice-advance
// bookkeeping that halves the throughput of the slice form.
func maskBlocks(k64 uint64, b []byte) {
	n := len(b) / 64
	if n == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	for {
		*(*uint64)(p) ^= k64
		*(*uint64)(unsafe.Add(p, 8)) ^= k64
		*(*uint64)(unsafe.Add(p, 16)) ^= k64
		*(*uint64)(unsafe.Add(p, 24)) ^= k64
		*(*uint64)(unsafe.Add(p, 32)) ^= k64
		*(*uint64)(unsafe.Add(p, 40)) ^= k64
		*(*uint64)(unsafe.Add(p, 48)) ^= k64
		*(*uint64)(unsafe.Add(p, 56)) ^= k64
		// Advance only while a block remains: a pointer one past the end
		// of the allocation is invalid (checkptr rejects it).
		if n--; n == 0 {
			return
		}
		p = unsafe.Add(p, 64)
	}
}
