package ui

import "time"

// rateMeter counts received messages and bytes per second of event time, in
// a small ring of one-second buckets, so the title bar can show a rate
// without keeping any history.
type rateMeter struct {
	sec   [8]int64 // unix second each bucket holds
	msgs  [8]int64
	bytes [8]int64
}

func (r *rateMeter) add(t time.Time, n int64) {
	s := t.Unix()
	i := s & 7
	if r.sec[i] != s {
		r.sec[i], r.msgs[i], r.bytes[i] = s, 0, 0
	}
	r.msgs[i]++
	r.bytes[i] += n
}

// perSecond averages the two complete seconds before now.
func (r *rateMeter) perSecond(now time.Time) (msgs, bytes float64) {
	s := now.Unix()
	for d := int64(1); d <= 2; d++ {
		i := (s - d) & 7
		if r.sec[i] == s-d {
			msgs += float64(r.msgs[i])
			bytes += float64(r.bytes[i])
		}
	}
	return msgs / 2, bytes / 2
}

// httpStatusText names the statuses a rejected upgrade commonly carries;
// the table is here so ui/ needs no HTTP package of its own.
func httpStatusText(code int) string {
	switch code {
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 426:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	}
	return ""
}
