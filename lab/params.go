package lab

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// params reads query parameters with defaults and bounds, collecting every
// mistake so that one 400 response can list them all before any upgrade.
type params struct {
	q    url.Values
	errs []string
}

// newParams reads the query of r.
func newParams(r *http.Request) *params { return &params{q: r.URL.Query()} }

// duration returns the named duration (Go syntax: 200ms, 30s), or def.
func (p *params) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want a duration from %v to %v, like 200ms or 2s", name, v, lo, hi))
		return def
	}
	return d
}

// int returns the named integer, or def.
func (p *params) int(name string, def, lo, hi int) int {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want an integer from %d to %d", name, v, lo, hi))
		return def
	}
	return n
}

// bool returns the named flag (1, true, yes), or false.
func (p *params) bool(name string) bool {
	switch strings.ToLower(p.q.Get(name)) {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	default:
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want true or false", name, p.q.Get(name)))
		return false
	}
}

// str returns the named string, or def when absent.
func (p *params) str(name, def string) string {
	if !p.q.Has(name) {
		return def
	}
	return p.q.Get(name)
}

// invalid records a mistake found by the caller.
func (p *params) invalid(format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

// check answers 400 listing every mistake and reports false, or reports true.
func (p *params) check(w http.ResponseWriter, l connLog) bool {
	if len(p.errs) == 0 {
		return true
	}
	err := errors.New(strings.Join(p.errs, "; "))
	l.printf("bad parameters: %v", err)
	http.Error(w, "bad lab parameters: "+err.Error(), http.StatusBadRequest)
	return false
}
