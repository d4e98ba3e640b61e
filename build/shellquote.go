package build

import "strings"

// ShellQuote renders an argument vector as a POSIX shell would need it
// typed: arguments made only of characters no shell treats specially stay
// bare, every other one is put in single quotes (an embedded single quote
// closes them, is escaped with a backslash and opens them again), an empty
// one is an empty pair of quotes. Whoever shows a command to a person (a
// log, a PR body, an error) shows this, so it can be copied into a terminal
// and means what ran:
//
//	sh -c 'echo boom >&2; exit 1'
//
// rather than the ambiguous sh -c echo boom >&2; exit 1.
func ShellQuote(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteArg(a, i == 0))
	}
	return b.String()
}

// CommandLine is the tier's command, shell-quoted (ShellQuote).
func (r Result) CommandLine() string { return ShellQuote(r.Command) }

func quoteArg(a string, first bool) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, c := range a {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("_@%+:,./-", c):
		case c == '=' && !first: // a first word with = would be an assignment
		default:
			safe = false
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
