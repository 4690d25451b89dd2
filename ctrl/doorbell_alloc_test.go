//go:build !race

package ctrl

import "testing"

func TestDoorbellAlloc(t *testing.T) {
	buf := make([]byte, 0, DoorbellLen)
	var sink int
	if n := testing.AllocsPerRun(1000, func() {
		buf = AppendDoorbell(buf[:0], testToken, 9, KindWork, 77)
	}); n != 0 {
		t.Errorf("AppendDoorbell with capacity: %v allocs/op; want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() {
		loop, _, _, ok := ParseDoorbell(buf, testToken)
		if ok {
			sink += loop
		}
	}); n != 0 {
		t.Errorf("ParseDoorbell: %v allocs/op; want 0", n)
	}
	if sink != 9*1001 && sink != 9*1000 {
		t.Errorf("ParseDoorbell did not parse the doorbell (sink %d)", sink)
	}
}
