package ctrl

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"hash/crc32"
	"strconv"
)

// Token is the per-server-instance secret carried in every doorbell. A
// datagram whose token differs is not ours (a stray packet, another server on
// a reused port, a prober) and is dropped. The token is not a MAC: it keeps
// honest accidents out, and the control socket only listens on loopback.
type Token [16]byte

// NewToken returns a token filled from crypto/rand.
func NewToken() (Token, error) {
	var t Token
	if _, err := rand.Read(t[:]); err != nil {
		return Token{}, err
	}
	return t, nil
}

// Kind says why a doorbell rang. It is a hint to the loop; the work itself
// always travels through a Queue, never in the datagram.
type Kind uint8

// Doorbell kinds. The zero value is reserved and never appears on the wire,
// so a zeroed buffer can never be mistaken for a doorbell.
const (
	KindWork  Kind = iota + 1 // the loop's Queue went from empty to non-empty
	KindTick                  // periodic housekeeping (timeouts, LRU)
	KindStop                  // the server is stopping: drain and close
	KindProbe                 // liveness probe of the control socket itself

	kindEnd // one past the last valid kind
)

var kindNames = [...]string{
	KindWork:  "work",
	KindTick:  "tick",
	KindStop:  "stop",
	KindProbe: "probe",
}

// String returns the kind's lower-case name, or "ctrl.Kind(N)" for a value
// that is not one of the constants.
func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return "ctrl.Kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the Kind constants.
func (k Kind) Valid() bool { return k > 0 && k < kindEnd }

// Doorbell wire format, all integers big-endian:
//
//	offset size field
//	     0    4 magic "evDB"
//	     4    1 version (DoorbellVersion)
//	     5    1 kind
//	     6    2 loop index
//	     8    4 sequence number (free for the sender's use)
//	    12   16 token
//	    28    4 CRC-32C (Castagnoli) of bytes 0..27
//
// The CRC makes every single-byte corruption detectable, including ones in
// the kind, loop and sequence fields that would otherwise decode to a
// different but plausible doorbell. The length is fixed: shorter and longer
// datagrams are rejected whole.
const (
	DoorbellLen     = 32        // bytes in every doorbell datagram
	DoorbellVersion = 1         // the only version ParseDoorbell accepts
	MaxLoop         = 1<<16 - 1 // largest loop index a doorbell can carry

	offVersion = 4
	offKind    = 5
	offLoop    = 6
	offSeq     = 8
	offToken   = 12
	offCRC     = 28
)

const doorbellMagic = "evDB"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is CRC-32C of b, byte by byte over the table. A doorbell is a few
// dozen bytes, so this costs little next to the write that follows; unlike
// crc32.Checksum, whose accelerated path makes its argument escape, it lets
// a sender build the datagram in a stack buffer and stay allocation-free.
func checksum(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc = castagnoli[byte(crc)^c] ^ crc>>8
	}
	return ^crc
}

// AppendDoorbell appends the DoorbellLen-byte doorbell for loop, kind and seq
// under token t to dst and returns the extended slice. It allocates only when
// dst lacks DoorbellLen bytes of spare capacity.
//
// It panics if loop is outside 0..MaxLoop or kind is not Valid: both are
// fixed by the caller's code, not by input.
func AppendDoorbell(dst []byte, t Token, loop int, kind Kind, seq uint32) []byte {
	if loop < 0 || loop > MaxLoop {
		panic("ctrl: doorbell loop index out of range")
	}
	if !kind.Valid() {
		panic("ctrl: invalid doorbell kind")
	}
	start := len(dst)
	dst = append(dst, doorbellMagic...)
	dst = append(dst, DoorbellVersion, byte(kind))
	dst = binary.BigEndian.AppendUint16(dst, uint16(loop))
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = append(dst, t[:]...)
	sum := checksum(dst[start:])
	return binary.BigEndian.AppendUint32(dst, sum)
}

// ParseDoorbell decodes a datagram b received on the control socket. ok is
// false, and the other results are zero, unless b is exactly DoorbellLen bytes
// with the right magic, version, a valid kind, a matching CRC and token t.
// The token is compared in constant time. b is not retained.
func ParseDoorbell(b []byte, t Token) (loop int, kind Kind, seq uint32, ok bool) {
	if len(b) != DoorbellLen {
		return 0, 0, 0, false
	}
	if string(b[:offVersion]) != doorbellMagic || b[offVersion] != DoorbellVersion {
		return 0, 0, 0, false
	}
	if checksum(b[:offCRC]) != binary.BigEndian.Uint32(b[offCRC:]) {
		return 0, 0, 0, false
	}
	// Compare the token last and always in full, so the time taken does
	// not tell a prober how many token bytes it guessed.
	if subtle.ConstantTimeCompare(b[offToken:offCRC], t[:]) != 1 {
		return 0, 0, 0, false
	}
	kind = Kind(b[offKind])
	if !kind.Valid() {
		return 0, 0, 0, false
	}
	return int(binary.BigEndian.Uint16(b[offLoop:])), kind, binary.BigEndian.Uint32(b[offSeq:]), true
}
