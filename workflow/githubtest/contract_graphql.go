package githubtest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// checkGraphQL validates a GraphQL request (document and variables, with
// gqlparser against GitHub's schema) and the answer: data of exactly the
// shape the document selects, with the schema's types and nullability, or
// errors each with a message, as the GraphQL specification says.
func (c *contract) checkGraphQL(x *exchange) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, "graphql: "+fmt.Sprintf(format, args...)) }

	var req struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(x.body, &req); err != nil {
		add("request body: %v", err)
		return out
	}
	doc, errs := gqlparser.LoadQueryWithRules(c.gql, req.Query, nil) // nil: the default rules
	if len(errs) > 0 {
		for _, e := range errs {
			add("document: %s", e.Message)
		}
		return out
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		add("document: no operation %q", req.OperationName)
		return out
	}
	name := "graphql " + op.Name
	if _, err := validator.VariableValues(c.gql, op, req.Variables); err != nil {
		out = append(out, fmt.Sprintf("%s: variables: %v", name, err))
	}

	if !x.handled && x.status != http.StatusOK {
		if err := c.basicErrorBody(x.answer); err != nil {
			out = append(out, fmt.Sprintf("%s: response %d: %s", name, x.status, oneLine(err)))
		}
		return out
	}
	if x.status != http.StatusOK {
		return append(out, fmt.Sprintf("%s: response %d: GitHub answers GraphQL with 200, errors in the body", name, x.status))
	}
	var ans map[string]any
	if err := json.Unmarshal(x.answer, &ans); err != nil {
		return append(out, fmt.Sprintf("%s: response: %v", name, err))
	}
	for _, p := range checkAnswer(c.gql, op, ans) {
		out = append(out, name+": response: "+p)
	}
	return out
}

// checkAnswer checks a GraphQL response body against the operation.
func checkAnswer(s *ast.Schema, op *ast.OperationDefinition, ans map[string]any) []string {
	var out []string
	for k := range ans {
		if k != "data" && k != "errors" && k != "extensions" {
			out = append(out, fmt.Sprintf("unexpected top-level key %q", k))
		}
	}
	errs, hasErrs := ans["errors"]
	if hasErrs {
		list, ok := errs.([]any)
		if !ok || len(list) == 0 {
			out = append(out, "errors: a non-empty list")
		}
		for i, e := range list {
			m, _ := e.(map[string]any)
			if _, ok := m["message"].(string); !ok {
				out = append(out, fmt.Sprintf("errors.%d.message: a string", i))
			}
		}
	}
	data, hasData := ans["data"]
	switch {
	case !hasData && !hasErrs:
		out = append(out, "neither data nor errors")
	case data == nil && !hasErrs:
		out = append(out, "data: null without errors")
	case data != nil:
		out = append(out, checkSelection(s, op.SelectionSet, data, "data")...)
	}
	return out
}

// checkSelection checks that v is an object holding exactly the fields set
// selects, each of its declared type.
func checkSelection(s *ast.Schema, set ast.SelectionSet, v any, path string) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{path + ": an object"}
	}
	var out []string
	want := map[string]bool{}
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok {
			out = append(out, path+": fragments are not checked")
			continue
		}
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		want[key] = true
		fv, present := obj[key]
		if !present {
			out = append(out, fmt.Sprintf("%s.%s: missing", path, key))
			continue
		}
		out = append(out, checkValue(s, f.Definition.Type, f.SelectionSet, fv, path+"."+key)...)
	}
	var extra []string
	for k := range obj {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, fmt.Sprintf("%s.%s: not selected", path, k))
	}
	return out
}

func checkValue(s *ast.Schema, t *ast.Type, set ast.SelectionSet, v any, path string) []string {
	if v == nil {
		if t.NonNull {
			return []string{fmt.Sprintf("%s: null, but %s is non-null", path, t.String())}
		}
		return nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: a list (%s)", path, t.String())}
		}
		var out []string
		for i, e := range list {
			out = append(out, checkValue(s, t.Elem, set, e, fmt.Sprintf("%s.%d", path, i))...)
		}
		return out
	}
	def := s.Types[t.NamedType]
	bad := []string{fmt.Sprintf("%s: %v is not a %s", path, v, t.NamedType)}
	switch {
	case def == nil:
		return []string{fmt.Sprintf("%s: type %s is not in the schema", path, t.NamedType)}
	case def.Kind == ast.Object:
		return checkSelection(s, set, v, path)
	case def.Kind == ast.Enum:
		str, ok := v.(string)
		if !ok || !slices.ContainsFunc(def.EnumValues, func(e *ast.EnumValueDefinition) bool { return e.Name == str }) {
			return bad
		}
	case t.NamedType == "Int":
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || n < math.MinInt32 || n > math.MaxInt32 {
			return bad
		}
	case t.NamedType == "Float":
		if _, ok := v.(float64); !ok {
			return bad
		}
	case t.NamedType == "Boolean":
		if _, ok := v.(bool); !ok {
			return bad
		}
	default: // String, ID and GitHub's scalars (GitObjectID, DateTime, URI...) are strings
		if _, ok := v.(string); !ok {
			return bad
		}
	}
	return nil
}
