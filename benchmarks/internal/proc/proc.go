package proc

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"time"
)

// ErrUnsupported is returned where /proc does not exist.
var ErrUnsupported = errors.New("proc: /proc/PID/stat and status are Linux-only")

var errFormat = errors.New("proc: unexpected /proc format")

// ClockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// which the Linux ABI fixes at 100 on every architecture (proc(5)).
const ClockTick = 10 * time.Millisecond

// CPU returns the user plus system CPU time pid has used so far
// (/proc/PID/stat fields 14 and 15, proc(5)). Its resolution is ClockTick.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat("/proc/self/stat"); serr != nil {
				return 0, ErrUnsupported
			}
		}
		return 0, err
	}
	return parseStat(b)
}

// parseStat sums utime and stime from a /proc/PID/stat line. The command
// name (field 2) may hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errFormat
	}
	// After ')': field 3 (state) is the first; utime is field 14, stime 15.
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, errFormat
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errFormat
	}
	return time.Duration(ut+st) * ClockTick, nil
}

// RSS returns pid's resident set size in bytes (VmRSS in
// /proc/PID/status, which the kernel reports in kB).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat("/proc/self/status"); serr != nil {
				return 0, ErrUnsupported
			}
		}
		return 0, err
	}
	return parseRSS(b)
}

func parseRSS(b []byte) (int64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, errFormat
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, errFormat
		}
		return kb << 10, nil
	}
	return 0, errFormat
}
