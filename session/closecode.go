package session

import "strconv"

// closeNames are the registered close codes (RFC 6455 §7.4.1 and the IANA
// registry), in the short words the UI shows beside the number.
var closeNames = map[int]string{
	1000: "normal",
	1001: "going away",
	1002: "protocol error",
	1003: "unsupported data",
	1004: "reserved",
	1005: "no status",
	1006: "abnormal: no close frame",
	1007: "invalid payload",
	1008: "policy violation",
	1009: "message too big",
	1010: "mandatory extension",
	1011: "internal error",
	1012: "service restart",
	1013: "try again later",
	1014: "bad gateway",
	1015: "TLS handshake failed",
}

// CloseCodeName names a close code: "normal", "abnormal: no close frame",
// "private" for 4000–4999, "registered" for 3000–3999, "" for 0.
func CloseCodeName(code int) string {
	if n, ok := closeNames[code]; ok {
		return n
	}
	switch {
	case code == 0:
		return ""
	case code >= 4000 && code <= 4999:
		return "private"
	case code >= 3000 && code <= 3999:
		return "registered"
	}
	return "unknown"
}

// CloseCodeString is the code with its name: "4001 private".
func CloseCodeString(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code) + " " + CloseCodeName(code)
}

// IsErrorClose reports whether a close code means something went wrong:
// a normal (1000) or going-away (1001) close is not an error.
func IsErrorClose(code int) bool {
	return code != 0 && code != 1000 && code != 1001
}
