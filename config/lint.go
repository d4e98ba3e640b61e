package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"
)

// lint reads the file's syntax tree before it is decoded and reports, in an
// operator's words, what go-toml would report in Go's: a value of the wrong
// type ("build.concurrency: want an integer, got a string", not "cannot
// decode TOML string into struct field config.Build.Concurrency of type
// int"), an unknown key with its full path, array indexes included
// ("promote.pairs[0].too", where go-toml says "promote.too"), and a secret
// written into the file. It returns every problem, one per line, each with
// its line and column; nil when it finds none (or the file does not parse:
// the decoder reports syntax errors).
func lint(name string, data []byte) error {
	l := &linter{name: name}
	l.p.Reset(data)
	var table path
	tableOK := true
	arrayTables := map[string]int{}
	for l.p.NextExpression() {
		e := l.p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = path(nil).names(e.Key())
			at := l.keyPos(e.Key())
			if e.Kind == unstable.ArrayTable {
				s := table.String()
				table = append(table, seg{index: arrayTables[s]})
				arrayTables[s]++
			}
			tableOK = l.table(table, e.Kind, at)
		case unstable.KeyValue:
			if tableOK {
				l.keyValue(table, e)
			}
		}
	}
	if l.p.Error() != nil || len(l.errs) == 0 {
		return nil
	}
	return &lintError{msgs: l.errs}
}

// lintError is every problem lint found.
type lintError struct{ msgs []string }

func (e *lintError) Error() string { return strings.Join(e.msgs, "\n") }

type linter struct {
	name string
	p    unstable.Parser
	errs []string
}

// seg is one step of a key's path: a name, or an index into an array.
type seg struct {
	name  string
	index int
}

type path []seg

func (p path) names(it unstable.Iterator) path {
	out := append(path(nil), p...)
	for it.Next() {
		out = append(out, seg{name: string(it.Node().Data)})
	}
	return out
}

func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.name == "" {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	return b.String()
}

var durationType = reflect.TypeFor[Duration]()

// typeAt is the Go type the key at p decodes into, nil for a key kupdate
// does not read.
func typeAt(p path) reflect.Type {
	t := reflect.TypeFor[Config]()
	for _, s := range p {
		switch {
		case t.Kind() == reflect.Struct && s.name != "":
			var next reflect.Type
			for i := range t.NumField() {
				if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag == s.name {
					next = t.Field(i).Type
				}
			}
			if next == nil {
				return nil
			}
			t = next
		case t.Kind() == reflect.Map && s.name != "":
			t = t.Elem()
		case t.Kind() == reflect.Slice && s.name == "":
			t = t.Elem()
		default:
			return nil
		}
	}
	return t
}

func (l *linter) errorf(at unstable.Position, p path, format string, args ...any) {
	l.errs = append(l.errs, fmt.Sprintf("%s:%d:%d: %s: %s", l.name, at.Line, at.Column, p, fmt.Sprintf(format, args...)))
}

// keyPos is where a key starts.
func (l *linter) keyPos(it unstable.Iterator) unstable.Position {
	if it.Next() {
		return l.p.Shape(l.p.Range(it.Node().Data)).Start
	}
	return unstable.Position{}
}

// table checks a [table] or [[array table]] header; false when its keys
// are not worth checking (the table itself is wrong).
func (l *linter) table(p path, kind unstable.Kind, at unstable.Position) bool {
	if kind == unstable.ArrayTable {
		base := p[:len(p)-1]
		t := typeAt(base)
		switch {
		case t == nil:
			l.unknown(at, base)
			return false
		case t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Struct:
			l.errorf(at, base, "want %s, got an array of tables", want(t))
			return false
		}
		return true
	}
	t := typeAt(p)
	switch {
	case t == nil:
		l.unknown(at, p)
		return false
	case t.Kind() != reflect.Struct && t.Kind() != reflect.Map:
		l.errorf(at, p, "want %s, got a table", want(t))
		return false
	}
	return true
}

func (l *linter) keyValue(table path, e *unstable.Node) {
	p := table.names(e.Key())
	l.value(p, e.Value(), l.keyPos(e.Key()))
}

// value checks the value v of the key at p; at is where the key starts,
// for values without a position of their own.
func (l *linter) value(p path, v *unstable.Node, at unstable.Position) {
	t := typeAt(p)
	if t == nil {
		l.unknown(at, p)
		return
	}
	if v.Raw.Length > 0 {
		at = l.p.Shape(v.Raw).Start
	}
	got := got(v.Kind)
	switch {
	case t == durationType:
		if v.Kind != unstable.String {
			l.errorf(at, p, "want a duration such as \"90s\", \"15m\" or \"3h\", got %s", got)
			return
		}
		if d, err := time.ParseDuration(string(v.Data)); err != nil {
			l.errorf(at, p, "invalid duration %q: want e.g. \"90s\", \"15m\", \"3h\"", v.Data)
		} else if d < 0 {
			l.errorf(at, p, "invalid duration %q: must not be negative", v.Data)
		}
	case t.Kind() == reflect.String:
		if v.Kind != unstable.String {
			l.errorf(at, p, "want a string, got %s", got)
		}
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		if v.Kind != unstable.Integer {
			l.errorf(at, p, "want an integer, got %s", got)
		} else if _, err := strconv.ParseInt(string(v.Data), 0, 64); err != nil {
			l.errorf(at, p, "%s does not fit in a 64-bit integer", v.Data)
		}
	case t.Kind() == reflect.Bool:
		if v.Kind != unstable.Bool {
			l.errorf(at, p, "want true or false, got %s", got)
		}
	case t.Kind() == reflect.Slice:
		if v.Kind != unstable.Array {
			l.errorf(at, p, "want %s, got %s", want(t), got)
			return
		}
		i := 0
		for it := v.Children(); it.Next(); {
			if c := it.Node(); c.Kind != unstable.Comment {
				l.value(append(p[:len(p):len(p)], seg{index: i}), c, at)
				i++
			}
		}
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		if v.Kind != unstable.InlineTable {
			l.errorf(at, p, "want %s, got %s", want(t), got)
			return
		}
		for it := v.Children(); it.Next(); {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				l.keyValue(p, c)
			}
		}
	}
}

// secretKey is a key name that suggests a secret written into the file.
var secretKey = regexp.MustCompile(`(?i)token|secret|passw|private_key|credential|api_key|apikey`)

// unknown reports a key kupdate does not read: a typo, a key of another
// version, or a secret put where it must never be.
func (l *linter) unknown(at unstable.Position, p path) {
	last := ""
	for _, s := range p {
		if s.name != "" {
			last = s.name
		}
	}
	for i, s := range p {
		// A token pasted as a key is not quoted back either; where it
		// belongs is where a key named "token" in its place would.
		if shape := tokenShape(s.name); shape != "" {
			home := secretHome(append(p[:i:i], seg{name: "token"}))
			l.errs = append(l.errs, fmt.Sprintf("%s:%d:%d: %s written as a key: secrets never go in config.toml: %s", l.name, at.Line, at.Column, shape, home))
			return
		}
	}
	if secretKey.MatchString(last) {
		l.errs = append(l.errs, fmt.Sprintf("%s:%d:%d: %s: secrets never go in config.toml: %s", l.name, at.Line, at.Column, p, secretHome(p)))
		return
	}
	l.errs = append(l.errs, fmt.Sprintf("%s:%d:%d: unknown key %q (see README.md, Configuration, for the keys kupdate reads)", l.name, at.Line, at.Column, p.String()))
}

// secretHome says where the secret of the section p is in goes instead.
func secretHome(p path) string {
	section := ""
	if len(p) > 0 {
		section = p[0].name
	}
	last := p[len(p)-1].name
	switch {
	case section == "github" && strings.Contains(strings.ToLower(last), "key"):
		return "put the GitHub App's private key in a file named by github.private_key_file"
	case section == "github":
		return "put it in the environment variable named by github.token_env"
	case section == "git":
		return "put it in the environment variable named by git.token_env"
	case section == "serve":
		return "put it in the environment variable named by serve.webhook_secret_env"
	}
	return "put it in the environment (github.token_env, git.token_env, gitlab.token_env and serve.webhook_secret_env name the variables kupdate reads)"
}

// want names what a Go type is written as in TOML.
func want(t reflect.Type) string {
	switch {
	case t == nil:
		return "a value"
	case t == durationType:
		return "a duration such as \"90s\""
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "an integer"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "an array of tables"
	case t.Kind() == reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(want(t.Elem()), "a "), "an ") + "s"
	}
	return "a table"
}

// got names a TOML value's kind.
func got(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Bool:
		return "a boolean"
	case unstable.Array:
		return "an array"
	case unstable.InlineTable:
		return "a table"
	}
	return "a date or time"
}
