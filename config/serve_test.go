package config

import (
	"testing"
	"time"
)

// The [serve] keys: what server.New and `kupdate serve` rely on being sane.
func TestServeErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"listen without port", "[serve]\nlisten = \"localhost\"\n", `c.toml:2:1: serve.listen: want host:port (e.g. "127.0.0.1:8380", ":8380" for every interface), got "localhost"`},
		{"zero shutdown", "[serve]\nshutdown_timeout = \"0s\"\n", "c.toml:2:1: serve.shutdown_timeout: must be positive: it is how long SIGTERM waits for a running cycle"},
		{"zero stuck_after", "[serve]\nstuck_after = \"0s\"\n", "c.toml:2:1: serve.stuck_after: must be positive: it is how long a cycle may run before /healthz fails"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestServeOverrides(t *testing.T) {
	got, err := Parse("c.toml", []byte("[serve]\nlisten = \":9000\"\njitter = \"0s\"\nstuck_after = \"2h\"\nwebhook_secret_env = \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default().Serve
	want.Listen, want.Jitter, want.StuckAfter, want.WebhookSecretEnv = ":9000", 0, Duration(2*time.Hour), ""
	if got.Serve != want {
		t.Errorf("serve = %+v, want %+v", got.Serve, want)
	}
}
