package ws

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key (RFC 6455 §5.3). pos is the
// offset of b[0] within the frame payload, so a payload may be masked in
// pieces: pass the returned value (pos+len(b)) as pos for the next piece. Only
// pos&3 matters. Masking twice with the same key and pos restores the input.
//
// The key is widened to a 64-bit word rotated to pos and XORed 64 bytes per
// iteration (maskBlocks, which has an unsafe word loop on amd64 and arm64 and
// a portable one elsewhere), then 8 bytes, then byte by byte for the tail.
func Mask(key [4]byte, pos int, b []byte) int {
	end := pos + len(b)
	if len(b) == 0 {
		return end
	}
	// k32's lowest byte applies to b[0]: rotate the key by pos bytes.
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	if len(b) >= 8 {
		k64 := uint64(k32)<<32 | uint64(k32)
		if len(b) >= 64 {
			n := len(b) &^ 63
			maskBlocks(k64, b[:n])
			b = b[n:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b[:8], binary.LittleEndian.Uint64(b[:8])^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= byte(k32)
		k32 = bits.RotateLeft32(k32, -8)
	}
	return end
}

// maskGeneric is the portable form of maskBlocks: len(b) is a multiple of 64.
// The tests run it on every architecture.
func maskGeneric(k64 uint64, b []byte) {
	for len(b) >= 32 {
		_ = b[31]
		binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k64)
		binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k64)
		binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k64)
		binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k64)
		b = b[32:]
	}
}
