package fetch

import "net/http"

// Validators are what a conditional request sends back: the ETag and
// Last-Modified of the copy the client holds. A server answers 304 Not
// Modified, without a body, while the copy is current (GitHub does not
// count such an answer against its rate limit).
type Validators struct {
	ETag         string
	LastModified string
}

// IsZero says there is nothing to be conditional on.
func (v Validators) IsZero() bool { return v.ETag == "" && v.LastModified == "" }

// ValidatorsOf are the validators of an answer.
func ValidatorsOf(h http.Header) Validators {
	return Validators{ETag: h.Get("ETag"), LastModified: h.Get("Last-Modified")}
}

func (v Validators) set(h http.Header) {
	if v.ETag != "" {
		h.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		h.Set("If-Modified-Since", v.LastModified)
	}
}
