package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// trimGraphQL keeps, of GitHub's public schema, the object fields named
// "Type.field" in fields, with their arguments, and every type those reach
// through a kept field's type, an argument or an input object's fields.
// Input objects and enums are kept whole: they are what kupdate sends.
// Interfaces are dropped (no kept field needs one), and so are directive
// uses other than @deprecated.
func trimGraphQL(raw []byte, fields []string) ([]byte, error) {
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphql", Input: string(raw)})
	if err != nil {
		return nil, err
	}
	byName := map[string]*ast.Definition{}
	for _, d := range doc.Definitions {
		byName[d.Name] = d
	}
	keep := map[string][]string{} // object type -> kept fields
	for _, f := range fields {
		typ, name, _ := strings.Cut(f, ".")
		keep[typ] = append(keep[typ], name)
	}

	out := map[string]*ast.Definition{}
	var reach func(name string) error
	reach = func(name string) error {
		if out[name] != nil || isBuiltinScalar(name) {
			return nil
		}
		d := byName[name]
		if d == nil {
			return fmt.Errorf("%s has no type %s", graphqlPkg, name)
		}
		c := *d
		c.Interfaces, c.Directives = nil, keepDirectives(d.Directives)
		out[name] = &c
		switch d.Kind {
		case ast.Object:
			c.Fields = nil
			for _, want := range keep[name] {
				f := d.Fields.ForName(want)
				if f == nil {
					return fmt.Errorf("%s: type %s has no field %s", graphqlPkg, name, want)
				}
				fc := *f
				fc.Directives = keepDirectives(f.Directives)
				fc.Arguments = nil
				for _, a := range f.Arguments {
					ac := *a
					ac.Directives = keepDirectives(a.Directives)
					fc.Arguments = append(fc.Arguments, &ac)
					if err := reach(a.Type.Name()); err != nil {
						return err
					}
				}
				c.Fields = append(c.Fields, &fc)
				if err := reach(f.Type.Name()); err != nil {
					return err
				}
			}
		case ast.InputObject:
			c.Fields = nil
			for _, f := range d.Fields {
				fc := *f
				fc.Directives = keepDirectives(f.Directives)
				c.Fields = append(c.Fields, &fc)
				if err := reach(f.Type.Name()); err != nil {
					return err
				}
			}
		case ast.Enum:
			c.EnumValues = nil
			for _, v := range d.EnumValues {
				vc := *v
				vc.Directives = keepDirectives(v.Directives)
				c.EnumValues = append(c.EnumValues, &vc)
			}
		case ast.Scalar:
		default:
			return fmt.Errorf("%s: a kept field reaches %s, a %s: trimming keeps objects, input objects, enums and scalars", graphqlPkg, name, d.Kind)
		}
		return nil
	}
	for _, root := range []string{"Query", "Mutation"} {
		if err := reach(root); err != nil {
			return nil, err
		}
	}
	for typ := range keep {
		if out[typ] == nil {
			return nil, fmt.Errorf("type %s is listed but no kept field reaches it", typ)
		}
	}

	trimmed := &ast.SchemaDocument{}
	for _, d := range doc.Definitions { // in the published order
		if c := out[d.Name]; c != nil {
			trimmed.Definitions = append(trimmed.Definitions, c)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s schema.graphql, trimmed to the fields kupdate's GraphQL documents\n# select by workflow/githubtest/internal/refresh. Do not edit: run it.\n\n", graphqlPkg)
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchemaDocument(trimmed)
	if _, err := gqlparser.LoadSchema(&ast.Source{Name: "trimmed", Input: b.String()}); err != nil {
		return nil, fmt.Errorf("the trimmed schema does not load: %w", err)
	}
	return b.Bytes(), nil
}

func isBuiltinScalar(name string) bool {
	return slices.Contains([]string{"String", "Int", "Float", "Boolean", "ID"}, name)
}

// keepDirectives drops GitHub's own directives (@preview,
// @requiredCapabilities, @possibleTypes), which the trimmed schema does not
// define.
func keepDirectives(l ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range l {
		if d.Name == "deprecated" {
			out = append(out, d)
		}
	}
	return out
}
