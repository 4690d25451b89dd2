package proc

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1234 (peers) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 3 0 100 0 0", 300 * ClockTick, true},
		{"99 (a b) c)) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 10 * ClockTick, true},
		{"1 (x) S 1 2", 0, false},
		{"no paren", 0, false},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s 0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseStat(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"Name:\tpeers\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads: 3\n", 5120 << 10, true},
		{"Name:\tpeers\n", 0, false},
		{"VmRSS:\t12 MB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseRSS([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseRSS(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux-only")
	}
	rss, err := RSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Errorf("RSS(self) = %d, %v; want > 0", rss, err)
	}
	if _, err := CPU(os.Getpid()); err != nil {
		t.Errorf("CPU(self) = %v; want nil", err)
	}
}
