package kernelfiles

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON files nixpkgs keeps for kernels are written by Python's
// json.dump(obj, indent=4) (kernels-org.json, key order = insertion order)
// and json.dump(obj, indent=4, sort_keys=True) (hardened/patches.json), each
// followed by one newline. kupdate must reproduce those bytes exactly, so it
// carries its own small JSON model: objects keep their member order, every
// value remembers its line for error messages, and duplicate keys are an
// error (encoding/json would silently keep the last one).

type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

type jsonValue struct {
	kind    jsonKind
	line    int
	b       bool
	str     string // string value, or the number's literal
	arr     []*jsonValue
	members []jsonMember
}

type jsonMember struct {
	key  string
	line int
	val  *jsonValue
}

func (v *jsonValue) get(key string) *jsonValue {
	for _, m := range v.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (v *jsonValue) index(key string) int {
	return slices.IndexFunc(v.members, func(m jsonMember) bool { return m.key == key })
}

// set replaces key's value in place, or appends the member.
func (v *jsonValue) set(key string, val *jsonValue) {
	if i := v.index(key); i >= 0 {
		v.members[i].val = val
		return
	}
	v.members = append(v.members, jsonMember{key: key, val: val})
}

func (v *jsonValue) del(key string) {
	if i := v.index(key); i >= 0 {
		v.members = slices.Delete(v.members, i, i+1)
	}
}

func jstr(s string) *jsonValue         { return &jsonValue{kind: jsonString, str: s} }
func jbool(b bool) *jsonValue          { return &jsonValue{kind: jsonBool, b: b} }
func jobj(ms ...jsonMember) *jsonValue { return &jsonValue{kind: jsonObject, members: ms} }

// parseJSON parses data strictly (RFC 8259, no trailing commas, no
// duplicate keys). Errors read "name:line: what".
func parseJSON(name string, data []byte) (*jsonValue, error) {
	p := &jsonParser{name: name, data: data, line: 1}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not valid UTF-8", name)
	}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.data) {
		return nil, p.errorf("unexpected %s after the top-level value", p.describe())
	}
	return v, nil
}

type jsonParser struct {
	name string
	data []byte
	pos  int
	line int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, p.line, fmt.Sprintf(format, args...))
}

func (p *jsonParser) describe() string {
	if p.pos >= len(p.data) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case '\n':
			p.line++
		case ' ', '\t', '\r':
		default:
			return
		}
		p.pos++
	}
}

func (p *jsonParser) value() (*jsonValue, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of file, want a value")
	}
	line := p.line
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &jsonValue{kind: jsonString, line: line, str: s}, nil
	case c == 't' && bytes.HasPrefix(p.data[p.pos:], []byte("true")):
		p.pos += 4
		return &jsonValue{kind: jsonBool, line: line, b: true}, nil
	case c == 'f' && bytes.HasPrefix(p.data[p.pos:], []byte("false")):
		p.pos += 5
		return &jsonValue{kind: jsonBool, line: line}, nil
	case c == 'n' && bytes.HasPrefix(p.data[p.pos:], []byte("null")):
		p.pos += 4
		return &jsonValue{kind: jsonNull, line: line}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errorf("unexpected %s, want a value", p.describe())
	}
}

func (p *jsonParser) object() (*jsonValue, error) {
	v := &jsonValue{kind: jsonObject, line: p.line}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	seen := map[string]int{}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %s, want a quoted key", p.describe())
		}
		line := p.line
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate key %q (first at line %d): remove one of them", p.name, line, key, first)
		}
		seen[key] = line
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("unexpected %s after key %q, want ':'", p.describe(), key)
		}
		p.pos++
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, jsonMember{key: key, line: line, val: val})
		if done, err := p.next('}', "object", v.line); done || err != nil {
			return v, err
		}
	}
}

// next consumes what must follow a member of the object or array opened at
// line: ',' before another, or close, which ends it (done).
func (p *jsonParser) next(close byte, what string, line int) (done bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return false, p.errorf("unexpected end of file in the %s opened at line %d", what, line)
	}
	switch p.data[p.pos] {
	case ',':
		p.pos++
		return false, nil
	case close:
		p.pos++
		return true, nil
	}
	return false, p.errorf("unexpected %s, want ',' or '%c'", p.describe(), close)
}

func (p *jsonParser) array() (*jsonValue, error) {
	v := &jsonValue{kind: jsonArray, line: p.line}
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		el, err := p.value()
		if err != nil {
			return nil, err
		}
		v.arr = append(v.arr, el)
		if done, err := p.next(']', "array", v.line); done || err != nil {
			return v, err
		}
	}
}

func (p *jsonParser) number() (*jsonValue, error) {
	start, line := p.pos, p.line
	for p.pos < len(p.data) && strings.IndexByte("+-0123456789.eE", p.data[p.pos]) >= 0 {
		p.pos++
	}
	lit := string(p.data[start:p.pos])
	if _, err := strconv.ParseFloat(lit, 64); err != nil {
		return nil, p.errorf("invalid number %q", lit)
	}
	return &jsonValue{kind: jsonNumber, line: line, str: lit}, nil
}

func (p *jsonParser) string() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character %#x in a string", c)
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return "", p.errorf("unterminated string")
			}
			e := p.data[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					if bytes.HasPrefix(p.data[p.pos:], []byte(`\u`)) {
						p.pos += 2
						r2, err := p.hex4()
						if err != nil {
							return "", err
						}
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				b.WriteRune(r)
			default:
				return "", p.errorf("invalid escape \\%c in a string", e)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

func (p *jsonParser) hex4() (rune, error) {
	if p.pos+4 > len(p.data) {
		return 0, p.errorf("truncated \\u escape")
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape %q", p.data[p.pos:p.pos+4])
	}
	p.pos += 4
	return rune(n), nil
}

// dumpJSON is Python's json.dump(v, indent=4, sort_keys=sortKeys) followed
// by "\n": ", " is never used (indent implies "," + newline), ": " separates
// keys, and ensure_ascii escapes everything outside printable ASCII.
func dumpJSON(v *jsonValue, sortKeys bool) []byte {
	var b bytes.Buffer
	dumpValue(&b, v, 0, sortKeys)
	b.WriteByte('\n')
	return b.Bytes()
}

func dumpValue(b *bytes.Buffer, v *jsonValue, level int, sortKeys bool) {
	switch v.kind {
	case jsonNull:
		b.WriteString("null")
	case jsonBool:
		b.WriteString(strconv.FormatBool(v.b))
	case jsonNumber:
		b.WriteString(v.str)
	case jsonString:
		writePyString(b, v.str)
	case jsonArray:
		if len(v.arr) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[")
		for i, el := range v.arr {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n" + strings.Repeat("    ", level+1))
			dumpValue(b, el, level+1, sortKeys)
		}
		b.WriteString("\n" + strings.Repeat("    ", level) + "]")
	case jsonObject:
		if len(v.members) == 0 {
			b.WriteString("{}")
			return
		}
		ms := v.members
		if sortKeys {
			ms = slices.Clone(ms)
			slices.SortStableFunc(ms, func(a, b jsonMember) int { return cmp.Compare(a.key, b.key) })
		}
		b.WriteString("{")
		for i, m := range ms {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n" + strings.Repeat("    ", level+1))
			writePyString(b, m.key)
			b.WriteString(": ")
			dumpValue(b, m.val, level+1, sortKeys)
		}
		b.WriteString("\n" + strings.Repeat("    ", level) + "}")
	}
}

// writePyString quotes s as Python's json module does with ensure_ascii:
// printable ASCII (0x20..0x7e) as is except " and \, the short escapes for
// \b \f \n \r \t, and \uxxxx (lowercase hex, surrogate pairs) for the rest.
func writePyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

func cloneJSON(v *jsonValue) *jsonValue {
	if v == nil {
		return nil
	}
	c := *v
	c.arr = nil
	for _, el := range v.arr {
		c.arr = append(c.arr, cloneJSON(el))
	}
	c.members = nil
	for _, m := range v.members {
		c.members = append(c.members, jsonMember{key: m.key, line: m.line, val: cloneJSON(m.val)})
	}
	return &c
}
