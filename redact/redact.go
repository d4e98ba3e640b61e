// Package redact removes credentials from what kupdate shows: logs, errors,
// reports and the status page. It is the one place that knows how, so that
// every package that names a remote hides the same things the same way.
package redact

import (
	"net/url"
	"strings"
)

// URL is s without its userinfo (user name and password or token), for a
// remote that an operator may have written with credentials in it. Anything
// that is not a URL with userinfo comes back unchanged.
func URL(s string) string {
	u, err := url.Parse(s)
	if err == nil {
		if u.User == nil {
			return s
		}
		u.User = nil
		return u.String()
	}
	// url.Parse refuses some URLs git accepts (a stray % or / in a
	// password); cut everything up to the last @ of the authority by hand
	// rather than show the original.
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority := rest
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		authority = rest[:i]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		return scheme + "://" + rest[at+1:]
	}
	return s
}
