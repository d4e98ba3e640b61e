package pin

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
	"github.com/nix-community/go-nix/pkg/nixbase32"
)

// HashForm is how a file writes a sha256: kupdate writes the new hash the
// same way.
type HashForm string

const (
	SRI         HashForm = "sri"          // sha256-<base64>= (hash = …)
	SRIUnpadded HashForm = "sri-unpadded" // sha256-<base64>, without the '='
	Nix32       HashForm = "nix32"        // 52 characters of Nix's base-32 (sha256 = …)
	Prefixed    HashForm = "sha256:nix32" // sha256:<nix32>
	Hex         HashForm = "hex"          // 64 lower-case hex digits
)

var (
	sriRE = regexp.MustCompile(`^sha256-([A-Za-z0-9+/]{43})(=?)$`)
	hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func formOf(h string) (HashForm, error) {
	if m := sriRE.FindStringSubmatch(h); m != nil {
		if m[2] == "" {
			return SRIUnpadded, nil
		}
		return SRI, nil
	}
	if hexRE.MatchString(h) {
		return Hex, nil
	}
	rest, prefixed := strings.CutPrefix(h, "sha256:")
	if len(rest) == nixbase32.EncodedLen(32) && nixbase32.ValidateString(rest) == nil {
		if prefixed {
			return Prefixed, nil
		}
		return Nix32, nil
	}
	return "", errors.New("not a sha256 in a form kupdate knows (SRI sha256-…, Nix base-32, sha256:<base-32> or hex)")
}

// FormatHash writes nixHash ("sha256:<nix32>", as kernelorg.Client.Hash
// returns it) in form.
func FormatHash(form HashForm, nixHash string) (string, error) {
	rest, ok := strings.CutPrefix(nixHash, "sha256:")
	if !ok {
		return "", fmt.Errorf("hash %q: want sha256:<nix32>", nixHash)
	}
	sum, err := nixbase32.DecodeString(rest)
	if err != nil || len(sum) != 32 {
		return "", fmt.Errorf("hash %q: not a sha256 in Nix's base-32", nixHash)
	}
	switch form {
	case SRI:
		return "sha256-" + base64.StdEncoding.EncodeToString(sum), nil
	case SRIUnpadded:
		return "sha256-" + base64.RawStdEncoding.EncodeToString(sum), nil
	case Nix32:
		return rest, nil
	case Prefixed:
		return nixHash, nil
	case Hex:
		return hex.EncodeToString(sum), nil
	}
	return "", fmt.Errorf("unknown hash form %q", form)
}

// Rewrite returns src with p moved to release to, whose tarball has the
// hash nixHash: the version strings' leading release (the user's suffix
// stays), modDirVersion, a literal url's version and vN.x, the hash in p's
// form, and extraMeta.branch when the series changes. No other byte changes. src must be the bytes p was found in.
func Rewrite(src []byte, p Pin, to kernelorg.Version, nixHash string) ([]byte, error) {
	if to.IsRC() || to.IsZero() {
		return nil, fmt.Errorf("%s: cannot pin %q: not a release", p.File, to)
	}
	fs := slices.Clone(p.fields)
	slices.SortFunc(fs, func(a, b field) int { return b.start - a.start })
	out := bytes.Clone(src)
	for _, fl := range fs {
		if fl.end > len(out) || string(out[fl.start:fl.end]) != fl.text {
			return nil, fmt.Errorf("%s:%d: the file changed since it was read", p.File, p.Line)
		}
		nt, err := newText(fl, to, p.HashForm, nixHash)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", p.File, p.Line, err)
		}
		out = slices.Concat(out[:fl.start], []byte(nt), out[fl.end:])
	}
	return out, nil
}

func newText(fl field, to kernelorg.Version, form HashForm, nixHash string) (string, error) {
	switch fl.kind {
	case fVersion, fModDir:
		lead := leadRE.FindStringSubmatch(fl.text)[1]
		// modDirVersion always has three numbers ("6.8.0"); a version
		// string keeps the user's habit for a first release.
		padded := fl.kind == fModDir || (strings.Count(lead, ".") == 2 && strings.HasSuffix(lead, ".0"))
		v := to.String()
		if padded && to.Patch == 0 {
			v += ".0"
		}
		return v + fl.text[len(lead):], nil
	case fURLFile:
		return to.String(), nil
	case fURLDir:
		return strconv.Itoa(to.Major), nil
	case fHash:
		return FormatHash(form, nixHash)
	case fBranch:
		return to.Series(), nil
	}
	return "", fmt.Errorf("unknown field kind %d", fl.kind)
}
