package sdk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Severity of a diagnostic.
type Severity int

// The severities.
const (
	Error Severity = iota + 1
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem with a SIG's config, at a path into its block
// ("flavours[1].name").
type Diagnostic struct {
	Severity Severity
	Path     string
	Summary  string
	Detail   string
}

func (d Diagnostic) String() string {
	s := d.Severity.String() + ": "
	if d.Path != "" {
		s += d.Path + ": "
	}
	s += d.Summary
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// Diagnostics are a Configure's findings.
type Diagnostics []Diagnostic

// Errorf makes an error diagnostic at path.
func Errorf(path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Path: path, Summary: fmt.Sprintf(format, args...)}
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity != Warning {
			return true
		}
	}
	return false
}

func (ds Diagnostics) String() string {
	var lines []string
	for _, d := range ds {
		lines = append(lines, d.String())
	}
	return strings.Join(lines, "\n")
}

// Decode reads the config block into v (a pointer to a struct with json
// tags) strictly: an unknown key or a value of the wrong type is an error
// diagnostic naming its path. An empty block leaves v as it is.
func (r ConfigureRequest) Decode(v any) Diagnostics {
	if len(r.Config) == 0 || string(r.Config) == "null" {
		return nil
	}
	var generic any
	if err := json.Unmarshal(r.Config, &generic); err != nil {
		return Diagnostics{Errorf("", "the config block is not valid JSON: %v", err)}
	}
	var ds Diagnostics
	check(generic, reflect.TypeOf(v).Elem(), "", &ds)
	if len(ds) > 0 {
		return ds
	}
	if err := json.Unmarshal(r.Config, v); err != nil {
		return Diagnostics{Errorf("", "%v", err)}
	}
	return nil
}

// check walks a decoded JSON value against the Go type it will fill.
func check(val any, t reflect.Type, path string, ds *Diagnostics) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if val == nil {
		return
	}
	at := func(p string) string {
		if p == "" {
			return "(top level)"
		}
		return p
	}
	wrong := func(want string) {
		*ds = append(*ds, Errorf(at(path), "want %s, got %s", want, jsonKind(val)))
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			wrong("a mapping")
			return
		}
		fields := map[string]reflect.StructField{}
		var known []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f
			known = append(known, name)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			f, ok := fields[k]
			if !ok {
				sort.Strings(known)
				*ds = append(*ds, Diagnostic{Severity: Error, Path: p, Summary: fmt.Sprintf("unknown key %q", k), Detail: "known: " + strings.Join(known, ", ")})
				continue
			}
			check(obj[k], f.Type, p, ds)
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := val.(string); !ok {
				wrong("a base64 string")
			}
			return
		}
		list, ok := val.([]any)
		if !ok {
			wrong("a list")
			return
		}
		for i, item := range list {
			check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), ds)
		}
	case reflect.Map:
		obj, ok := val.(map[string]any)
		if !ok {
			wrong("a mapping")
			return
		}
		for k, item := range obj {
			check(item, t.Elem(), path+"."+k, ds)
		}
	case reflect.String:
		if _, ok := val.(string); !ok {
			wrong("a string")
		}
	case reflect.Bool:
		if _, ok := val.(bool); !ok {
			wrong("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := val.(float64)
		if !ok || n != float64(int64(n)) {
			wrong("a whole number")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := val.(float64); !ok {
			wrong("a number")
		}
	}
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("%q", v)
	case float64:
		return fmt.Sprint(v)
	case bool:
		return fmt.Sprint(v)
	}
	return "null"
}
