// Package proc reads a Linux process's CPU time and resident memory from
// /proc, for the benchmark drivers (cmd/suite, cmd/wsload) that measure a
// server from outside it. Other systems return ErrUnsupported.
package proc
