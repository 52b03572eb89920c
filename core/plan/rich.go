package plan

import (
	"fmt"
	"strings"
)

// richExpr is a parsed rich (boolean) dependency, rpm 4.13+:
// (A and B), (A or B), (A if B [else C]), (A unless B [else C]),
// (A with B), (A without B), nested freely.
type richExpr struct {
	dep      *Dep // a leaf
	op       string
	operands []*richExpr
}

func parseRich(s string) (*richExpr, error) {
	toks := tokenizeRich(s)
	p := &richParser{toks: toks}
	e, err := p.group()
	if err != nil {
		return nil, err
	}
	if p.pos != len(toks) {
		return nil, fmt.Errorf("unexpected %q", toks[p.pos])
	}
	return e, nil
}

func tokenizeRich(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

type richParser struct {
	toks []string
	pos  int
}

var richOps = map[string]bool{"and": true, "or": true, "if": true, "else": true, "unless": true, "with": true, "without": true}
var cmpOps = map[string]bool{"<": true, "<=": true, "=": true, "==": true, ">=": true, ">": true}

func (p *richParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *richParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

// group parses "( operand op operand [op operand]... )".
func (p *richParser) group() (*richExpr, error) {
	if p.next() != "(" {
		return nil, fmt.Errorf("expected (")
	}
	first, err := p.operand()
	if err != nil {
		return nil, err
	}
	e := &richExpr{operands: []*richExpr{first}}
	for p.peek() != ")" {
		op := p.next()
		if !richOps[op] {
			return nil, fmt.Errorf("expected an operator, found %q", op)
		}
		switch {
		case e.op == "":
			e.op = op
		case op == "else" && (e.op == "if" || e.op == "unless") && len(e.operands) == 2:
			e.op += "-else"
		case op != e.op || op == "if" || op == "unless":
			return nil, fmt.Errorf("mixing %q and %q needs parentheses", e.op, op)
		}
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		e.operands = append(e.operands, o)
	}
	p.next()
	if e.op == "" {
		return first, nil
	}
	return e, nil
}

func (p *richParser) operand() (*richExpr, error) {
	switch t := p.peek(); {
	case t == "(":
		return p.group()
	case t == "" || t == ")" || richOps[t]:
		return nil, fmt.Errorf("expected a dependency, found %q", t)
	}
	d := Dep{Name: p.next()}
	if cmpOps[p.peek()] {
		d.Op = strings.Replace(p.next(), "==", "=", 1)
		if p.peek() == "" || p.peek() == ")" {
			return nil, fmt.Errorf("%s %s needs a version", d.Name, d.Op)
		}
		d.EVR = p.next()
	}
	return &richExpr{dep: &d}, nil
}

func (e *richExpr) eval(p Provider) bool {
	if e.dep != nil {
		ok, _ := Satisfied(*e.dep, p)
		return ok
	}
	o := e.operands
	switch e.op {
	case "and", "with":
		for _, x := range o {
			if !x.eval(p) {
				return false
			}
		}
		return true
	case "or":
		for _, x := range o {
			if x.eval(p) {
				return true
			}
		}
		return false
	case "without":
		return o[0].eval(p) && !o[1].eval(p)
	case "if":
		return !o[1].eval(p) || o[0].eval(p)
	case "if-else":
		if o[1].eval(p) {
			return o[0].eval(p)
		}
		return o[2].eval(p)
	case "unless":
		return o[1].eval(p) || o[0].eval(p)
	case "unless-else":
		if o[1].eval(p) {
			return o[2].eval(p)
		}
		return o[0].eval(p)
	}
	return false
}

func (e *richExpr) walk(f func(Dep)) {
	if e.dep != nil {
		f(*e.dep)
	}
	for _, o := range e.operands {
		o.walk(f)
	}
}
