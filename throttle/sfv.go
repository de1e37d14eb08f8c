package throttle

import "strings"

// This file parses the subset of Structured Field Values (RFC 8941, now RFC
// 9651) that the IETF RateLimit and RateLimit-Policy fields use: a List of
// Items whose parameters are read as integers or strings. It follows the
// RFC's parsing algorithms (§4.2) closely enough that every field the RFC
// rejects is rejected here too, because the draft says malformed fields MUST
// be ignored: guessing at a broken field would act on numbers the server
// never sent.
//
// No structured-field library is among tailguard's dependencies and the
// grammar needed is small, so it is written here rather than imported.

// sfItem is one list member: its bare value (a string or token, unquoted)
// and its parameters in order. Parameters whose value is neither an Integer
// nor a String keep only their presence (ok true, isInt and isStr false),
// which is all the callers need to reject them.
type sfItem struct {
	value  string
	isStr  bool // value was an sf-string (the draft requires one)
	params []sfParam
}

type sfParam struct {
	key   string
	num   int64
	str   string
	isInt bool
	isStr bool
}

// param returns the parameter named key. Per RFC 8941 §4.2.3.2 a later
// duplicate overrides an earlier one, so the last match wins.
func (it sfItem) param(key string) (sfParam, bool) {
	for i := len(it.params) - 1; i >= 0; i-- {
		if it.params[i].key == key {
			return it.params[i], true
		}
	}
	return sfParam{}, false
}

// parseSFList parses the combined field values as one sf-list. Multiple
// field lines are joined with commas, as RFC 8941 §4.2 says. ok is false for
// any syntax error, and for inner lists, which neither RateLimit field
// allows; the caller then ignores the whole field.
func parseSFList(values []string) (items []sfItem, ok bool) {
	p := sfParser{s: strings.Join(values, ",")}
	p.skipSP()
	if p.done() {
		return nil, false // an empty list field is treated as absent
	}
	for !p.done() {
		it, ok := p.item()
		if !ok {
			return nil, false
		}
		items = append(items, it)
		p.skipOWS()
		if p.done() {
			return items, true
		}
		if p.s[p.i] != ',' {
			return nil, false
		}
		p.i++
		p.skipOWS()
		if p.done() {
			return nil, false // trailing comma
		}
	}
	return items, true
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) skipSP() {
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) item() (sfItem, bool) {
	var it sfItem
	if p.done() {
		return it, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		s, ok := p.str()
		if !ok {
			return it, false
		}
		it.value, it.isStr = s, true
	case isAlpha(c) || c == '*':
		it.value = p.token()
	default:
		// Integers, decimals, byte sequences, booleans and inner lists are
		// valid structured items but not policy names: neither RateLimit
		// field allows them as the item value.
		return it, false
	}
	return it, p.params(&it)
}

func (p *sfParser) params(it *sfItem) bool {
	for !p.done() && p.s[p.i] == ';' {
		p.i++
		p.skipSP()
		key, ok := p.key()
		if !ok {
			return false
		}
		prm := sfParam{key: key}
		if !p.done() && p.s[p.i] == '=' {
			p.i++
			if !p.bareValue(&prm) {
				return false
			}
		} // else Boolean true: present, neither integer nor string
		it.params = append(it.params, prm)
	}
	return true
}

// bareValue parses a parameter's bare item. Integers and strings are kept;
// the other types are checked for syntax and then only marked present.
func (p *sfParser) bareValue(prm *sfParam) bool {
	if p.done() {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '-' || isDigit(c):
		n, isInt, ok := p.number()
		prm.num, prm.isInt = n, isInt
		return ok
	case c == '"':
		s, ok := p.str()
		prm.str, prm.isStr = s, ok
		return ok
	case isAlpha(c) || c == '*':
		p.token()
		return true
	case c == ':':
		return p.bytes()
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			p.i += 2
			return true
		}
		return false
	default:
		return false
	}
}

// number parses an sf-integer (at most 15 digits) or an sf-decimal (at most
// 12 integer and 3 fractional digits). isInt is false for a decimal.
func (p *sfParser) number() (n int64, isInt, ok bool) {
	neg := false
	if p.s[p.i] == '-' {
		neg = true
		p.i++
	}
	digits, dot, frac := 0, false, 0
scan:
	for !p.done() {
		c := p.s[p.i]
		switch {
		case isDigit(c):
			if dot {
				frac++
			} else {
				digits++
				n = n*10 + int64(c-'0')
			}
		case c == '.' && !dot:
			if digits == 0 || digits > 12 {
				return 0, false, false
			}
			dot = true
		default:
			break scan
		}
		if (!dot && digits > 15) || frac > 3 {
			return 0, false, false
		}
		p.i++
	}
	if digits == 0 || (dot && frac == 0) {
		return 0, false, false
	}
	if neg {
		n = -n
	}
	return n, !dot, true
}

// str parses an sf-string: printable ASCII, with \" and \\ as the only
// escapes.
func (p *sfParser) str() (string, bool) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return b.String(), true
		case c < 0x20 || c > 0x7e:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return "", false // unterminated
}

// token parses an sf-token; the first character was checked by the caller.
func (p *sfParser) token() string {
	start := p.i
	p.i++
	for !p.done() && (isTchar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
		p.i++
	}
	return p.s[start:p.i]
}

// bytes checks an sf-binary: base64 characters between colons.
func (p *sfParser) bytes() bool {
	p.i++
	for !p.done() {
		c := p.s[p.i]
		p.i++
		if c == ':' {
			return true
		}
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
			return false
		}
	}
	return false
}

// key parses a parameter key: lcalpha or "*", then lcalpha, digits, "_",
// "-", "." or "*".
func (p *sfParser) key() (string, bool) {
	if p.done() || !(isLower(p.s[p.i]) || p.s[p.i] == '*') {
		return "", false
	}
	start := p.i
	for !p.done() {
		c := p.s[p.i]
		if !isLower(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
		p.i++
	}
	return p.s[start:p.i], true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool { return isLower(c) || ('A' <= c && c <= 'Z') }

// isTchar reports an RFC 9110 token character.
func isTchar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
