package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/NixOS/nixpkgs.git", "https://github.com/NixOS/nixpkgs.git"},
		{"https://x-access-token:ghp_secret@github.com/o/nixpkgs.git", "https://github.com/o/nixpkgs.git"},
		{"https://ghp_secret@github.com/o/nixpkgs.git", "https://github.com/o/nixpkgs.git"},
		{"http://user:pw@127.0.0.1:8080/o/r", "http://127.0.0.1:8080/o/r"},
		{"ssh://git@example.invalid/o/r.git", "ssh://example.invalid/o/r.git"},
		// url.Parse refuses these; the credentials go all the same.
		{"https://user:p%zz@example.invalid/o/r", "https://example.invalid/o/r"},
		{"https://user:ab/cd@example.invalid/o/r", "https://example.invalid/o/r"},
		{"https://user:p@ss@example.invalid/o/r", "https://example.invalid/o/r"},
		// Not URLs with credentials: unchanged.
		{"git@example.invalid:o/r.git", "git@example.invalid:o/r.git"},
		{"/srv/git/nixpkgs", "/srv/git/nixpkgs"},
		{"", ""},
		{"https://example.invalid:bad/x?q=a@b", "https://example.invalid:bad/x?q=a@b"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
