package childproc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnv(t *testing.T) {
	secrets := []string{"GITHUB_TOKEN", "KUPDATE_GIT_TOKEN", "NIX_ACCESS_TOKEN"}
	for _, tc := range []struct {
		name          string
		parent, extra []string
		want          []string
	}{
		{
			name: "allow-listed variables pass, in order",
			parent: []string{"PATH=/bin", "HOME=/home/k", "LC_ALL=C.UTF-8", "NIX_PATH=nixpkgs=/n", "https_proxy=http://p:3128",
				"SSL_CERT_FILE=/etc/ssl/ca.pem", "XDG_CACHE_HOME=/c", "TMPDIR=/t", "GIT_SSL_CAINFO=/ca"},
			want: []string{"PATH=/bin", "HOME=/home/k", "LC_ALL=C.UTF-8", "NIX_PATH=nixpkgs=/n", "https_proxy=http://p:3128",
				"SSL_CERT_FILE=/etc/ssl/ca.pem", "XDG_CACHE_HOME=/c", "TMPDIR=/t", "GIT_SSL_CAINFO=/ca"},
		},
		{
			name: "secrets and everything else stay behind",
			parent: []string{"PATH=/bin", "GITHUB_TOKEN=ghp_x", "KUPDATE_GIT_TOKEN=y", "KUPDATE_WEBHOOK_SECRET=z",
				"AWS_SECRET_ACCESS_KEY=a", "GH_TOKEN=b", "GIT_ASKPASS=/ask", "GIT_DIR=/elsewhere", "GIT_CONFIG_KEY_0=http.extraheader",
				"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic c", "PWD=/k", "LD_PRELOAD=/x.so", "TERM=xterm"},
			want: []string{"PATH=/bin"},
		},
		{
			name:   "a secret is dropped even when allow-listed",
			parent: []string{"NIX_ACCESS_TOKEN=t", "NIX_REMOTE=daemon"},
			want:   []string{"NIX_REMOTE=daemon"},
		},
		{
			name:   "extra wins over parent, and is never a secret either",
			parent: []string{"PATH=/bin", "KUPDATE_KERNEL_MIRROR=http://parent", "HOME=/home/k"},
			extra:  []string{"KUPDATE_KERNEL_MIRROR=http://127.0.0.1:1", "HOME=/tmp/h", "GITHUB_TOKEN=leak", "KUPDATE_GITHUB_MIRROR=http://a", "KUPDATE_GITHUB_MIRROR=http://b"},
			want:   []string{"PATH=/bin", "KUPDATE_KERNEL_MIRROR=http://127.0.0.1:1", "HOME=/tmp/h", "KUPDATE_GITHUB_MIRROR=http://b"},
		},
		{
			name: "NIX_CONFIG keeps its settings but access tokens",
			parent: []string{"NIX_CONFIG=sandbox = false\naccess-tokens = github.com=ghp_x\n  extra-access-tokens = gitlab.com=y # why\n" +
				"access-tokens=github.com=z\nsubstituters = # access-tokens = kept, a comment"},
			want: []string{"NIX_CONFIG=sandbox = false\nsubstituters = # access-tokens = kept, a comment"},
		},
		{
			name:   "a NIX_CONFIG of tokens only is left out",
			parent: []string{"NIX_CONFIG=access-tokens = github.com=ghp_x\n", "PATH=/bin"},
			want:   []string{"PATH=/bin"},
		},
		{
			name:   "malformed entries are skipped",
			parent: []string{"PATH", "=C:=C:\\", "HOME=/h"},
			want:   []string{"HOME=/h"},
		},
		{
			name: "nothing at all is an empty environment, not nil",
			want: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Env(tc.parent, tc.extra, secrets)
			if got == nil {
				t.Fatal("Env returned nil: exec would hand the child kupdate's environment")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
