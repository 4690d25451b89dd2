package http

import (
	"sync/atomic"
	"time"
)

// DateLen is the length of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT".
const DateLen = 29

// DateCache holds the current date as an IMF-fixdate (RFC 9110 §5.6.7), the
// form the Date field takes (RFC 9110 §6.6.1), and formats it again only when
// the clock's second changes.
//
// A read costs one clock reading, one atomic load and one comparison, and
// allocates nothing; the clock reading dominates, and the *At methods let
// the caller share one reading among several responses. When the second has changed, the reader that notices
// formats the new date into a fresh 29-byte entry and publishes it with an
// atomic store; entries are never written after they are published, so
// concurrent readers need no lock. Two readers may both format the same new
// second; both entries hold the same bytes. A clock that steps backwards
// simply yields an entry for the earlier second.
//
// The zero DateCache is ready to use and reads time.Now. DateCache is safe for
// concurrent use; it must not be copied after first use.
type DateCache struct {
	// Now is the clock; nil means time.Now. Set it before the first use and
	// never change it afterwards. Tests inject a fake clock here.
	Now func() time.Time

	cur atomic.Pointer[rspDateEntry]
}

// rspDateEntry is one published date: the Unix second it stands for and its
// formatted bytes. It is immutable once stored in DateCache.cur.
type rspDateEntry struct {
	sec  int64
	date [DateLen]byte
}

// entry returns the published entry for the current second on c's clock.
func (c *DateCache) entry() *rspDateEntry {
	if c.Now != nil {
		return c.entryAt(c.Now())
	}
	return c.entryAt(time.Now())
}

// entryAt returns the published entry for now's second, formatting and
// publishing a new one when the second differs from the published one.
func (c *DateCache) entryAt(now time.Time) *rspDateEntry {
	sec := now.Unix()
	if e := c.cur.Load(); e != nil && e.sec == sec {
		return e
	}
	e := &rspDateEntry{sec: sec}
	rspFormatDate(&e.date, now)
	c.cur.Store(e)
	return e
}

// Append appends the current date, the 29 bytes of an IMF-fixdate without
// field name or line end, to dst.
func (c *DateCache) Append(dst []byte) []byte {
	return append(dst, c.entry().date[:]...)
}

// AppendHeader appends the field line "Date: <IMF-fixdate>\r\n".
func (c *DateCache) AppendHeader(dst []byte) []byte {
	return rspAppendDateField(dst, c.entry())
}

// AppendHeaderAt is AppendHeader for the instant now instead of a fresh
// reading of the clock. Reading the clock is most of the cost of a cached
// date (see BenchmarkDateCache), so a caller that writes several responses
// per wake-up, such as an event loop answering pipelined requests, reads the
// clock once and passes the instant to each. now should come from the same
// clock as c.Now; an older instant publishes an older date.
func (c *DateCache) AppendHeaderAt(dst []byte, now time.Time) []byte {
	return rspAppendDateField(dst, c.entryAt(now))
}

func rspAppendDateField(dst []byte, e *rspDateEntry) []byte {
	dst = append(dst, "Date: "...)
	dst = append(dst, e.date[:]...)
	return append(dst, '\r', '\n')
}

// rspDates is the process-wide cache behind AppendDate.
var rspDates DateCache

// AppendDate appends "Date: <IMF-fixdate>\r\n" for the current second, read
// from a process-wide DateCache on time.Now. An origin server with a clock
// sends Date in every response except 1xx and 5xx where it may omit it
// (RFC 9110 §6.6.1).
func AppendDate(dst []byte) []byte {
	return rspDates.AppendHeader(dst)
}

// AppendDateAt is AppendDate for the instant now, read by the caller from
// time.Now, so that one clock reading serves several responses (see
// DateCache.AppendHeaderAt).
func AppendDateAt(dst []byte, now time.Time) []byte {
	return rspDates.AppendHeaderAt(dst, now)
}

// rspFormatDate writes t in UTC as an IMF-fixdate,
// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7). The grammar has a
// four-digit year, so years before 0 and after 9999 are clamped to those
// bounds (the rest of the date is kept); no real clock gets there.
func rspFormatDate(b *[DateLen]byte, t time.Time) {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	year = min(max(year, 0), 9999)

	const days = "SunMonTueWedThuFriSat"
	const months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	wd := int(t.Weekday()) * 3
	mo := (int(month) - 1) * 3

	b[0], b[1], b[2] = days[wd], days[wd+1], days[wd+2]
	b[3], b[4] = ',', ' '
	b[5], b[6] = byte('0'+day/10), byte('0'+day%10)
	b[7] = ' '
	b[8], b[9], b[10] = months[mo], months[mo+1], months[mo+2]
	b[11] = ' '
	b[12], b[13], b[14], b[15] = byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10)
	b[16] = ' '
	b[17], b[18] = byte('0'+hour/10), byte('0'+hour%10)
	b[19] = ':'
	b[20], b[21] = byte('0'+minute/10), byte('0'+minute%10)
	b[22] = ':'
	b[23], b[24] = byte('0'+second/10), byte('0'+second%10)
	b[25], b[26], b[27], b[28] = ' ', 'G', 'M', 'T'
}
