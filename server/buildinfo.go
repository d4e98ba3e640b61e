package server

// BuildInfo is the build of the kupdate that serves: the status page and
// /status.json show it, and kupdate_build_info carries it as labels, so a
// dashboard can tell which version ran when. cmd/kupdate reads it from the
// binary (the linker's version, the Go toolchain's VCS stamp).
type BuildInfo struct {
	Version      string `json:"version"`                 // "v1.2.3", a packager's "1.2.3", or "devel"
	Revision     string `json:"revision,omitempty"`      // the commit, when the build recorded one
	RevisionTime string `json:"revision_time,omitempty"` // its commit time (RFC 3339)
	Modified     bool   `json:"modified,omitempty"`      // built with uncommitted changes
	GoVersion    string `json:"go_version"`
}

// ShortRevision is the commit's first 12 hex digits, as the page shows it.
func (b BuildInfo) ShortRevision() string {
	if len(b.Revision) > 12 {
		return b.Revision[:12]
	}
	return b.Revision
}

// WithBuildInfo names the build the status page shows and
// kupdate_build_info reports; without it both say nothing of the build.
func WithBuildInfo(b BuildInfo) Option { return func(s *Server) { s.build = &b } }
