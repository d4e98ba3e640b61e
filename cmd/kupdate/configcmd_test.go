package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// kupdate config: which file the search path found, or that none was, and
// the directories; an invalid file is exit 2 naming it.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STATE_DIRECTORY", "/var/lib/kupdate")
	t.Setenv("CACHE_DIRECTORY", "/var/cache/kupdate")
	xdg := filepath.Join(dir, "xdg")
	userFile := filepath.Join(xdg, "kupdate", "config.toml")
	if err := os.MkdirAll(filepath.Dir(userFile), 0o755); err != nil {
		t.Fatal(err)
	}
	named := filepath.Join(dir, "named.toml")
	for path, content := range map[string]string{userFile: "[serve]\nlisten = \"127.0.0.1:9\"\n", named: "[serve]\nlisten = \"nowhere\"\n"} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name           string
		env            map[string]string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"nothing found", nil, nil, 0, "config: none found: the defaults\nstate:  /var/lib/kupdate\ncache:  /var/cache/kupdate\n", ""},
		{"the user's", map[string]string{"XDG_CONFIG_HOME": xdg}, nil, 0, "config: " + userFile + "\nstate:  /var/lib/kupdate\ncache:  /var/cache/kupdate\n", ""},
		{"KUPDATE_CONFIG before the search path", map[string]string{"XDG_CONFIG_HOME": xdg, "KUPDATE_CONFIG": named}, nil, 2, "",
			"kupdate config: " + named + ":2:1: serve.listen: want host:port (e.g. \"127.0.0.1:8380\", \":8380\" for every interface), got \"nowhere\"\n"},
		{"a named file that is missing", nil, []string{"--config", filepath.Join(dir, "missing.toml")}, 2, "",
			"kupdate config: config: open " + filepath.Join(dir, "missing.toml") + ": no such file or directory (create it from the documented config.toml, or pass --config)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append(tc.args, "config"), &out, &errb, func(k string) string { return tc.env[k] })
			if code != tc.code || out.String() != tc.stdout || errb.String() != tc.stderr {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s", code, tc.code, out.String(), tc.stdout, errb.String(), tc.stderr)
			}
		})
	}
}
