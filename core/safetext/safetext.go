// Package safetext makes text from outside the core safe to show and to
// write into one-line fields: a build log's tail, a plugin's stderr or
// diagnostics, a SIG repository's name. A job's output may carry terminal
// escapes (set the window title, fill the clipboard, move the cursor to
// hide a line); a name may carry a newline that starts a new line of a
// .repo file.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal is s with every control character but newline and tab (ESC, a
// lone carriage return, the C1 set), every format character (bidi
// overrides, zero-width ones) and every invalid byte written as a visible
// \x.. or \u.... escape: printed, it cannot drive a terminal.
func Terminal(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Tail is the last n lines of a log, made safe to print (Terminal).
func Tail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return Terminal(strings.Join(lines, "\n"))
}

// LineProblem says why s cannot be one line of a file (a .repo file's
// name=, a header, a one-line description): a control or format character
// (a newline among them) or invalid UTF-8, or more than max bytes. "" when
// it can.
func LineProblem(s string, max int) string {
	if !utf8.ValidString(s) {
		return "is not UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Sprintf("contains the control character %U (one line of plain text only)", r)
		}
	}
	if len(s) > max {
		return fmt.Sprintf("is longer than %d bytes", max)
	}
	return ""
}
