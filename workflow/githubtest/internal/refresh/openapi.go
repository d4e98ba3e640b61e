package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// trimREST keeps the paths and methods of ops from GitHub's REST
// description, and the components they reference. The source is the
// description with $refs (api.github.com.json), not the dereferenced copy:
// the same contract, but the dereferenced one repeats the pull-request schema
// in every operation that returns one and is four times the size.
func trimREST(raw []byte, ops []string) ([]byte, error) {
	doc, err := decode(raw)
	if err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	kept := map[string]any{}
	found := map[string]bool{}
	for p, v := range paths {
		item, _ := v.(map[string]any)
		out := map[string]any{}
		for k, op := range item {
			if !isMethod(k) {
				continue
			}
			id, _ := op.(map[string]any)["operationId"].(string)
			if slices.Contains(ops, id) {
				out[k] = op
				found[id] = true
			}
		}
		if len(out) == 0 {
			continue
		}
		if params, ok := item["parameters"]; ok {
			out["parameters"] = params
		}
		kept[p] = out
	}
	var missing []string
	for _, id := range ops {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s has no operation %s", restPkg, strings.Join(missing, ", "))
	}
	components, err := referenced(doc, kept)
	if err != nil {
		return nil, err
	}
	info, _ := doc["info"].(map[string]any)
	info["x-kupdate-source"] = restPkg.String() + " generated/api.github.com.json, trimmed to the operations githubtest serves by workflow/githubtest/internal/refresh"
	return encode(map[string]any{
		"openapi":    doc["openapi"],
		"info":       info,
		"servers":    doc["servers"],
		"paths":      kept,
		"components": components,
	})
}

// trimWebhooks keeps the webhooks of the given events (x-github.subcategory,
// the X-GitHub-Event header) and the components they reference.
func trimWebhooks(raw []byte, events []string) ([]byte, error) {
	doc, err := decode(raw)
	if err != nil {
		return nil, err
	}
	hooks, _ := doc["webhooks"].(map[string]any)
	kept := map[string]any{}
	found := map[string]bool{}
	for name, v := range hooks {
		post, _ := v.(map[string]any)["post"].(map[string]any)
		gh, _ := post["x-github"].(map[string]any)
		event, _ := gh["subcategory"].(string)
		if slices.Contains(events, event) {
			kept[name] = v
			found[event] = true
		}
	}
	for _, e := range events {
		if !found[e] {
			return nil, fmt.Errorf("%s has no webhook for the %s event", webhooksPkg, e)
		}
	}
	components, err := referenced(doc, kept)
	if err != nil {
		return nil, err
	}
	info, _ := doc["info"].(map[string]any)
	info["x-kupdate-source"] = webhooksPkg.String() + " generated/api.github.com.json, trimmed to the events server reads by workflow/githubtest/internal/refresh"
	return encode(map[string]any{
		"openapi":    doc["openapi"],
		"info":       info,
		"webhooks":   kept,
		"components": components,
	})
}

// trimExamples keeps the example payloads of the given events, keyed by
// event.
func trimExamples(raw []byte, events []string) ([]byte, error) {
	var all []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	kept := map[string]any{}
	for _, e := range all {
		if slices.Contains(events, e.Name) {
			kept[e.Name] = e.Examples
		}
	}
	for _, e := range events {
		if kept[e] == nil {
			return nil, fmt.Errorf("%s has no examples of the %s event", examplesPkg, e)
		}
	}
	return encode(map[string]any{
		"source":   examplesPkg.String() + " api.github.com/index.json, trimmed to the events server is sent by workflow/githubtest/internal/refresh",
		"examples": kept,
	})
}

func isMethod(k string) bool {
	switch k {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// referenced collects the components that root references, transitively,
// as a components object.
func referenced(doc map[string]any, root any) (map[string]any, error) {
	all, _ := doc["components"].(map[string]any)
	out := map[string]any{}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				section, name, err := splitRef(ref)
				if err != nil {
					return err
				}
				sec, _ := out[section].(map[string]any)
				if sec == nil {
					sec = map[string]any{}
					out[section] = sec
				}
				if _, done := sec[name]; done {
					return nil
				}
				target, ok := all[section].(map[string]any)[name]
				if !ok {
					return fmt.Errorf("dangling $ref %s", ref)
				}
				sec[name] = target
				return walk(target)
			}
			for _, k := range sortedKeys(v) {
				if err := walk(v[k]); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(root)
}

// splitRef reads a local reference #/components/{section}/{name}.
func splitRef(ref string) (section, name string, err error) {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	section, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("unexpected $ref %q: only #/components/{section}/{name} is followed", ref)
	}
	name = strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
	return section, name, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func decode(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // keep numbers exactly as published
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// encode writes v indented, keys sorted (encoding/json sorts map keys), so a
// refresh's diff shows only what GitHub changed.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", " ")
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
