// Package compat guards released protocol majors: it reduces a proto file
// to its wire-relevant shape (messages and their numbered fields, enums,
// services and their methods) and reports every change a peer built
// against an older shape would notice. Adding is fine; removing,
// renumbering, retyping or changing a method's streaming is not.
package compat

import (
	"encoding/json"
	"fmt"
	"sort"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Shape is a proto file's wire contract.
type Shape struct {
	Messages map[string]map[int32]Field  `json:"messages"`
	Enums    map[string]map[int32]string `json:"enums"`
	Methods  map[string]Method           `json:"methods"` // service/method
}

// Field is one message field as the wire sees it.
type Field struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Card  string `json:"cardinality"`
	Type  string `json:"type,omitempty"` // message or enum full name
	Oneof string `json:"oneof,omitempty"`
}

// Method is one RPC.
type Method struct {
	Input        string `json:"input"`
	Output       string `json:"output"`
	ClientStream bool   `json:"client_stream,omitempty"`
	ServerStream bool   `json:"server_stream,omitempty"`
}

// Of reduces a file descriptor to its shape.
func Of(fd protoreflect.FileDescriptor) *Shape {
	s := &Shape{Messages: map[string]map[int32]Field{}, Enums: map[string]map[int32]string{}, Methods: map[string]Method{}}
	enums := func(es protoreflect.EnumDescriptors) {
		for i := 0; i < es.Len(); i++ {
			e := es.Get(i)
			vals := map[int32]string{}
			for j := 0; j < e.Values().Len(); j++ {
				v := e.Values().Get(j)
				vals[int32(v.Number())] = string(v.Name())
			}
			s.Enums[string(e.FullName())] = vals
		}
	}
	var messages func(protoreflect.MessageDescriptors)
	messages = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			m := ms.Get(i)
			fields := map[int32]Field{}
			for j := 0; j < m.Fields().Len(); j++ {
				f := m.Fields().Get(j)
				fl := Field{Name: string(f.Name()), Kind: f.Kind().String(), Card: f.Cardinality().String()}
				if f.IsMap() {
					fl.Kind = "map<" + f.MapKey().Kind().String() + "," + f.MapValue().Kind().String() + ">"
				}
				switch {
				case f.Message() != nil && !f.IsMap():
					fl.Type = string(f.Message().FullName())
				case f.Enum() != nil:
					fl.Type = string(f.Enum().FullName())
				}
				if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
					fl.Oneof = string(o.Name())
				}
				fields[int32(f.Number())] = fl
			}
			if !m.IsMapEntry() {
				s.Messages[string(m.FullName())] = fields
			}
			enums(m.Enums())
			messages(m.Messages())
		}
	}
	enums(fd.Enums())
	messages(fd.Messages())
	for i := 0; i < fd.Services().Len(); i++ {
		svc := fd.Services().Get(i)
		for j := 0; j < svc.Methods().Len(); j++ {
			m := svc.Methods().Get(j)
			s.Methods[string(svc.FullName())+"/"+string(m.Name())] = Method{Input: string(m.Input().FullName()), Output: string(m.Output().FullName()),
				ClientStream: m.IsStreamingClient(), ServerStream: m.IsStreamingServer()}
		}
	}
	return s
}

// Parse reads a shape written by Marshal.
func Parse(data []byte) (*Shape, error) {
	var s Shape
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Marshal writes a shape as stable, reviewable JSON.
func (s *Shape) Marshal() []byte {
	data, _ := json.MarshalIndent(s, "", "  ")
	return append(data, '\n')
}

// Breaks lists every way next breaks peers built against old, sorted.
func Breaks(old, next *Shape) []string {
	var out []string
	for name, fields := range old.Messages {
		now, ok := next.Messages[name]
		if !ok {
			out = append(out, fmt.Sprintf("message %s was removed", name))
			continue
		}
		for num, f := range fields {
			g, ok := now[num]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: field %d (%s) was removed", name, num, f.Name))
			case g != f:
				out = append(out, fmt.Sprintf("%s: field %d changed from %+v to %+v", name, num, f, g))
			}
		}
	}
	for name, vals := range old.Enums {
		now, ok := next.Enums[name]
		if !ok {
			out = append(out, fmt.Sprintf("enum %s was removed", name))
			continue
		}
		for num, v := range vals {
			if now[num] != v {
				out = append(out, fmt.Sprintf("%s: value %d (%s) was removed or renamed", name, num, v))
			}
		}
	}
	for name, m := range old.Methods {
		g, ok := next.Methods[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("method %s was removed", name))
		case g != m:
			out = append(out, fmt.Sprintf("method %s changed from %+v to %+v", name, m, g))
		}
	}
	sort.Strings(out)
	return out
}
