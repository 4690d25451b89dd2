package demo

import (
	"strconv"
	"time"

	httpd "github.com/evhttpd/httpd"
)

// Limits of the /events stream's query parameters.
const (
	eventsDefaultEvery = time.Second
	eventsMinEvery     = 10 * time.Millisecond
	eventsMaxCount     = 1 << 20
)

// events streams Server-Sent Events: a counter once a second (?every=200ms
// changes the pace, ?count=N stops after N events; without count the stream
// runs until the client leaves). Each event carries the time it was
// produced, in Unix milliseconds, so a client can tell that it arrived
// before the next one was made: every event is flushed as soon as it is
// written. It runs on the Blocking pool: one worker per open stream.
func events(r *httpd.Request) error {
	every := eventsDefaultEvery
	if v, ok := r.QueryValue("every"); ok {
		d, err := time.ParseDuration(string(v))
		if err != nil || d < eventsMinEvery {
			return r.SendErr(400, "every must be a duration of at least 10ms")
		}
		every = d
	}
	count := -1
	if v, ok := r.QueryValue("count"); ok {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > eventsMaxCount {
			return r.SendErr(400, "count must be 1..1048576")
		}
		count = n
	}
	_ = r.SetType("text/event-stream")
	_ = r.SetHeader("Cache-Control", "no-cache")
	tick := time.NewTicker(every)
	defer tick.Stop()
	var b []byte
	for n := 0; count < 0 || n < count; n++ {
		if n > 0 {
			<-tick.C
		}
		b = append(b[:0], "id: "...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, "\ndata: {\"n\":"...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ",\"t\":"...)
		b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
		b = append(b, "}\n\n"...)
		if err := r.SendChunk(b); err != nil {
			return err // the client left
		}
		if err := r.Flush(); err != nil {
			return err
		}
	}
	return r.SendChunk(nil)
}
