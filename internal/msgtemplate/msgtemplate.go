// Package msgtemplate renders laminar.toml's [commit] message, a Go
// text/template over the promotions of a commit.
//
// Whoever can push laminar.toml writes the template, and it runs on the
// machine that holds the push rights and the registry credentials. So a
// template reaches nothing but the data it is given: no function that
// reads files, the environment or the network is defined (text/template has
// none, and "call" is replaced by one that refuses, since the data holds no
// functions to call), the data are plain structs without methods, the
// output is bounded (MaxOutput), and the work is bounded by the data: no
// {{define}}, {{block}} or {{template}} (which could recurse), {{range}}
// only over the data's lists and nested at most MaxRangeDepth deep (no
// range over a number). The package is pure: standard library only, no I/O.
package msgtemplate

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// MaxOutput is the most a rendered message may hold, in bytes.
const MaxOutput = 64 << 10

// MaxRangeDepth is how deep {{range}} may nest: promotions, then their files.
const MaxRangeDepth = 2

// Data is what a template sees as dot.
type Data struct {
	Promotions []Promotion
}

// Promotion is one image's promotion in the commit.
type Promotion struct {
	Image  string   // canonical name: registry.example.com/acme/app
	Name   string   // last part of the name: app
	From   string   // the tag (or digest) the references had
	To     string   // the tag they have now
	Digest string   // the digest of To, when it was asked for
	Rule   string   // the [[update]] rule that chose To
	Files  []string // the files whose references changed
}

// Template is a parsed template that passed the checks above.
type Template struct {
	t *template.Template
}

// Parse parses text and checks that it keeps to what a template may do.
// Errors say where in text (line) and what.
func Parse(text string) (*Template, error) {
	t, err := template.New("message").
		Option("missingkey=error").
		Funcs(template.FuncMap{"call": refuseCall}).
		Parse(text)
	if err != nil {
		return nil, clean(err)
	}
	if len(t.Templates()) > 1 {
		return nil, errors.New("{{define}} and {{block}} are not allowed")
	}
	if t.Tree == nil || t.Tree.Root == nil {
		return &Template{t: t}, nil
	}
	if err := check(t.Tree, t.Tree.Root, 0); err != nil {
		return nil, err
	}
	return &Template{t: t}, nil
}

func refuseCall(...any) (string, error) {
	return "", errors.New("call is not available in a commit message template")
}

// check walks the parse tree for what Parse refuses.
func check(tree *parse.Tree, n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := check(tree, c, depth); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return fmt.Errorf("%s: {{template}} is not allowed", where(tree, n))
	case *parse.IfNode:
		return checkBranch(tree, &n.BranchNode, depth)
	case *parse.WithNode:
		return checkBranch(tree, &n.BranchNode, depth)
	case *parse.RangeNode:
		if depth+1 > MaxRangeDepth {
			return fmt.Errorf("%s: {{range}} nested more than %d deep", where(tree, n), MaxRangeDepth)
		}
		if !rangesOverData(n.Pipe) {
			return fmt.Errorf("%s: {{range}} goes only over a list of the data, such as .Promotions or .Files", where(tree, n))
		}
		if err := check(tree, n.List, depth+1); err != nil {
			return err
		}
		return check(tree, n.ElseList, depth)
	}
	return nil
}

func checkBranch(tree *parse.Tree, b *parse.BranchNode, depth int) error {
	if err := check(tree, b.List, depth); err != nil {
		return err
	}
	return check(tree, b.ElseList, depth)
}

// rangesOverData reports whether a range's pipeline is a field of the data
// (.Files, $.Promotions, $p.Files): never a number, a variable that may
// hold one, or dot, which {{with}} can set to a number.
func rangesOverData(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) > 1
	}
	return false
}

func where(tree *parse.Tree, n parse.Node) string {
	loc, _ := tree.ErrorContext(n)
	if _, after, ok := strings.Cut(loc, ":"); ok {
		line, _, _ := strings.Cut(after, ":")
		return "line " + line
	}
	return loc
}

// clean turns text/template's "template: message:3:5: ..." into "line
// 3:5: ...", and leaves out the Go types it names.
func clean(err error) error {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	msg = strings.Replace(msg, `executing "message" at `, "at ", 1)
	msg = strings.ReplaceAll(msg, "msgtemplate.", "")
	if rest, ok := strings.CutPrefix(msg, "message:"); ok {
		msg = "line " + rest
	}
	return errors.New(msg)
}

// ErrTooLong is returned when a rendered message exceeds MaxOutput.
var ErrTooLong = fmt.Errorf("the message is longer than %d KiB", MaxOutput>>10)

// Execute renders the template over d.
func (t *Template) Execute(d Data) (string, error) {
	w := &boundedWriter{max: MaxOutput}
	if err := t.t.Execute(w, d); err != nil {
		if errors.Is(err, ErrTooLong) || w.over {
			return "", ErrTooLong
		}
		return "", clean(err)
	}
	return w.b.String(), nil
}

// boundedWriter keeps at most max bytes and fails the write that would pass
// them, which stops the template's execution there.
type boundedWriter struct {
	b    strings.Builder
	max  int
	over bool
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		w.over = true
		return 0, ErrTooLong
	}
	return w.b.Write(p)
}
