package testreqs

import "testing"

func TestSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		req  string
		want int
	}{{"Wrk49", Wrk49, 49}, {"Hdr219", Hdr219, 219}, {"Browser700", Browser700, 688}} {
		if len(c.req) != c.want {
			t.Errorf("len(%s) = %d; want %d", c.name, len(c.req), c.want)
		}
	}
}
