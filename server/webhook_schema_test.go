package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// webhooks is GitHub's description of webhook deliveries
// (testdata/webhooks/openapi-webhooks.json, written by
// workflow/githubtest/internal/refresh from @octokit/openapi-webhooks): an
// OpenAPI 3.1 document, whose schemas are JSON Schema 2020-12. It is read as
// plain JSON and validated with jsonschema: kin-openapi takes seconds to
// resolve its components.
type webhooks struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
}

const webhooksFile = "testdata/webhooks/openapi-webhooks.json"

var loadWebhooks = sync.OnceValues(func() (*webhooks, error) {
	f, err := os.Open(webhooksFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(webhooksFile, raw); err != nil {
		return nil, err
	}
	return &webhooks{doc: raw.(map[string]any), compiler: c}, nil
})

// names are the webhooks described for event (x-github.subcategory, the
// X-GitHub-Event header): for "pull_request" every "pull-request-{action}".
func (w *webhooks) names(event string) []string {
	var out []string
	for name, hook := range w.doc["webhooks"].(map[string]any) {
		if dig(hook.(map[string]any), "post", "x-github")["subcategory"] == event {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// schema is the payload schema of a webhook, as a JSON pointer into the
// document.
func (w *webhooks) schema(name string) (map[string]any, string, error) {
	hook, _ := w.doc["webhooks"].(map[string]any)[name].(map[string]any)
	if hook == nil {
		return nil, "", fmt.Errorf("GitHub describes no webhook %s", name)
	}
	s := dig(hook, "post", "requestBody", "content", "application/json", "schema")
	ref, _ := s["$ref"].(string)
	return w.resolve(s), ref, nil
}

func (w *webhooks) resolve(s map[string]any) map[string]any {
	for s != nil {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = dig(w.doc, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return nil
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// webhookName is the description's name for a delivery: the event and its
// action, dashed ("pull_request" "closed" -> "pull-request-closed").
func webhookName(event, action string) string {
	if action != "" {
		event += "-" + action
	}
	return strings.ReplaceAll(event, "_", "-")
}

// CheckWebhookSchema validates a delivery of event against GitHub's
// description of it. For the tests of package server_test.
func CheckWebhookSchema(event string, payload []byte) error {
	w, err := loadWebhooks()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return err
	}
	action, _ := v.(map[string]any)["action"].(string)
	_, ref, err := w.schema(webhookName(event, action))
	if err != nil {
		return err
	}
	sch, err := w.compiler.Compile(webhooksFile + ref)
	if err != nil {
		return err
	}
	var ve *jsonschema.ValidationError
	if err := sch.Validate(v); !errors.As(err, &ve) {
		return err
	}
	if bad := untolerated(ve); len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// staleInExamples are fields GitHub's description has since made required
// and its example payloads, older, lack. kupdate reads none of them.
var staleInExamples = map[string]bool{"has_discussions": true, "topics": true, "visibility": true, "auto_merge": true}

// untolerated is what of a validation error is not a stale example's
// missing field: a oneOf or anyOf passes when one branch does.
func untolerated(e *jsonschema.ValidationError) []string {
	if len(e.Causes) == 0 {
		if r, ok := e.ErrorKind.(*kind.Required); ok && !slices.ContainsFunc(r.Missing, func(p string) bool { return !staleInExamples[p] }) {
			return nil
		}
		return []string{fmt.Sprintf("at /%s: %s", strings.Join(e.InstanceLocation, "/"), e.Error())}
	}
	var bad []string
	for _, c := range e.Causes {
		b := untolerated(c)
		switch e.ErrorKind.(type) {
		case *kind.OneOf, *kind.AnyOf:
			if len(b) == 0 {
				return nil
			}
		}
		bad = append(bad, b...)
	}
	return bad
}

// reads lists the JSON paths a payload struct reads, with the Go kind each
// is decoded into.
func reads(t reflect.Type, prefix string) map[string]reflect.Kind {
	out := map[string]reflect.Kind{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		path := strings.TrimPrefix(prefix+"."+name, ".")
		if f.Type.Kind() == reflect.Struct {
			for k, v := range reads(f.Type, path) {
				out[k] = v
			}
			continue
		}
		out[path] = f.Type.Kind()
	}
	return out
}

// lookup finds path in s: whether GitHub declares it (in s, an allOf part or
// any oneOf/anyOf branch), requires it at every step (in s or an allOf
// part, or in every branch), and the types it allows.
func (w *webhooks) lookup(s map[string]any, path string) (declared, required bool, types []string) {
	required = true
	for _, step := range strings.Split(path, ".") {
		next, req := w.property(s, step)
		if next == nil {
			return false, false, nil
		}
		required = required && req
		s = next
	}
	return true, required, w.types(s)
}

func (w *webhooks) property(s map[string]any, name string) (prop map[string]any, required bool) {
	s = w.resolve(s)
	if p := dig(s, "properties", name); p != nil {
		prop = w.resolve(p)
	}
	for _, r := range list(s["required"]) {
		required = required || r == name
	}
	for _, part := range list(s["allOf"]) {
		p, req := w.property(part.(map[string]any), name)
		if prop == nil {
			prop = p
		}
		required = required || req
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		branches := list(s[key])
		all := len(branches) > 0
		for _, b := range branches {
			p, req := w.property(b.(map[string]any), name)
			if prop == nil {
				prop = p
			}
			all = all && req
		}
		required = required || all
	}
	return prop, required
}

func (w *webhooks) types(s map[string]any) []string {
	s = w.resolve(s)
	var out []string
	switch t := s["type"].(type) {
	case string:
		out = append(out, t)
	case []any:
		for _, x := range t {
			out = append(out, x.(string))
		}
	}
	for _, key := range []string{"allOf", "oneOf", "anyOf"} {
		for _, part := range list(s[key]) {
			out = append(out, w.types(part.(map[string]any))...)
		}
	}
	return out
}

func list(v any) []any { l, _ := v.([]any); return l }

var kindType = map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Bool: "boolean"}

// Every field decide reads from a delivery is one GitHub's description
// declares for every webhook of that event, with the type kupdate decodes it
// into. The reads GitHub does not promise are exactly these, each harmless:
// its absence (or null) decodes to the zero value, which decide treats as
// "not a change on a promotion source".
func TestWebhookReadsDocumentedFields(t *testing.T) {
	w, err := loadWebhooks()
	if err != nil {
		t.Fatal(err)
	}
	optional := map[string][]string{}
	for _, tc := range []struct {
		event string
		typ   reflect.Type
	}{
		{"pull_request", reflect.TypeFor[pullRequestEvent]()},
		{"push", reflect.TypeFor[pushEvent]()},
		{"check_suite", reflect.TypeFor[checkSuiteEvent]()},
	} {
		prefix := webhookName(tc.event, "")
		names := w.names(tc.event)
		if len(names) == 0 {
			t.Fatalf("no webhook descriptions for %s", tc.event)
		}
		for path, kind := range reads(tc.typ, "") {
			for _, name := range names {
				s, _, err := w.schema(name)
				if err != nil {
					t.Fatal(err)
				}
				declared, required, types := w.lookup(s, path)
				switch {
				case !declared:
					t.Errorf("%s: kupdate reads %s, which GitHub does not declare", name, path)
				case !slices.Contains(types, kindType[kind]):
					t.Errorf("%s: kupdate reads %s as %s, GitHub declares %v", name, path, kindType[kind], types)
				case !required:
					optional[tc.event+" "+path] = append(optional[tc.event+" "+path], strings.TrimPrefix(name, prefix+"-"))
				}
			}
		}
	}
	for _, v := range optional {
		sort.Strings(v)
	}
	want := map[string][]string{
		// Only "closed" promises merged; decide reads it only then.
		"pull_request pull_request.merged": {
			"assigned", "auto-merge-disabled", "auto-merge-enabled", "demilestoned", "dequeued", "enqueued",
			"labeled", "locked", "milestoned", "review-request-removed", "review-requested", "synchronize",
			"unassigned", "unlabeled", "unlocked",
		},
	}
	if diff := cmp.Diff(want, optional); diff != "" {
		t.Errorf("reads GitHub does not promise (-want +got):\n%s", diff)
	}
}

// The check tolerates only the stale examples' missing fields: a field of
// the wrong type, or a missing one kupdate reads, is reported.
func TestCheckWebhookSchema(t *testing.T) {
	const push = `{"ref":"refs/heads/master","before":"0000000000000000000000000000000000000000","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246",` +
		`"created":true,"deleted":false,"forced":false,"base_ref":null,"compare":"x","commits":[],"head_commit":null,"pusher":{"name":"a"},` +
		`"repository":%s,"sender":{"login":"a","id":1,"node_id":"x","avatar_url":"x","gravatar_id":"","url":"x","html_url":"x","followers_url":"x","following_url":"x","gists_url":"x","starred_url":"x","subscriptions_url":"x","organizations_url":"x","repos_url":"x","events_url":"x","received_events_url":"x","type":"User","site_admin":false}}`
	for _, tc := range []struct{ name, repo, want string }{
		{"repository not an object", `"NixOS/nixpkgs"`, "at /repository: "},
		{"repository without full_name", `{}`, "at /repository: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckWebhookSchema("push", []byte(fmt.Sprintf(push, tc.repo)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error at %s", err, tc.want)
			}
			if err != nil && tc.repo == `{}` && !strings.Contains(err.Error(), "full_name") {
				t.Errorf("got %v, want it to name full_name", err)
			}
		})
	}
}
