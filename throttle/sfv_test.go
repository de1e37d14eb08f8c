package throttle

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSFList(t *testing.T) {
	type kv map[string]any // parameter → int64, string, or true (present, other type)
	tests := []struct {
		in   string
		ok   bool
		want []string // item values
		prms []kv     // per item
	}{
		{`"default";r=50;t=30`, true, []string{"default"}, []kv{{"r": int64(50), "t": int64(30)}}},
		{`"burst";q=100;w=60,"daily";q=1000;w=86400`, true, []string{"burst", "daily"},
			[]kv{{"q": int64(100), "w": int64(60)}, {"q": int64(1000), "w": int64(86400)}}},
		{`"a";q=1 ,  "b";q=2`, true, []string{"a", "b"}, []kv{{"q": int64(1)}, {"q": int64(2)}}},
		{"\"a\";q=1,\t\"b\";q=2", true, []string{"a", "b"}, []kv{{"q": int64(1)}, {"q": int64(2)}}},
		{`token;r=1`, true, []string{"token"}, []kv{{"r": int64(1)}}},
		{`"p";pk=:cHsdsRa894==:;q=1;qu="requests";x;y=?1;z=1.5;v=tok`, true, []string{"p"},
			[]kv{{"pk": true, "q": int64(1), "qu": "requests", "x": true, "y": true, "z": true, "v": true}}},
		{`"esc\"ape\\d";r=1`, true, []string{`esc"ape\d`}, []kv{{"r": int64(1)}}},
		{`"a";r=-5`, true, []string{"a"}, []kv{{"r": int64(-5)}}},
		{`"a";r=999999999999999`, true, []string{"a"}, []kv{{"r": int64(999999999999999)}}},
		{`  "a";r=1`, true, []string{"a"}, []kv{{"r": int64(1)}}},

		{``, false, nil, nil},
		{`   `, false, nil, nil},
		{`"a";r=1,`, false, nil, nil},               // trailing comma
		{`"a";r=1,,"b"`, false, nil, nil},           // empty member
		{`"a";r=1 "b"`, false, nil, nil},            // missing comma
		{`"a";R=1`, false, nil, nil},                // upper-case key
		{`"a";r=`, false, nil, nil},                 // empty value
		{`"a";r=1000000000000000`, false, nil, nil}, // 16 digits
		{`"a";r=1.`, false, nil, nil},               // decimal without fraction
		{`"a";r=1.2345`, false, nil, nil},           // 4 fraction digits
		{`"a";r=--1`, false, nil, nil},
		{`"unterminated;r=1`, false, nil, nil},
		{`"bad\escape";r=1`, false, nil, nil},
		{"\"ctl\x01\";r=1", false, nil, nil},
		{`"a";pk=:abc`, false, nil, nil},  // unterminated byte sequence
		{`"a";pk=:a*c:`, false, nil, nil}, // not base64
		{`"a";b=?2`, false, nil, nil},     // not a boolean
		{`(1 2);r=1`, false, nil, nil},    // inner list
		{`1;r=1`, false, nil, nil},        // integer item
		{`"a";r=1;`, false, nil, nil},     // dangling semicolon
		{`"a";r=@`, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			items, ok := parseSFList([]string{tt.in})
			assert.Equal(t, tt.ok, ok)
			if !tt.ok {
				assert.Nil(t, items)
				return
			}
			assert.Len(t, items, len(tt.want))
			for i, it := range items {
				assert.Equal(t, tt.want[i], it.value)
				for k, want := range tt.prms[i] {
					p, found := it.param(k)
					assert.True(t, found, "param %s", k)
					switch w := want.(type) {
					case int64:
						assert.True(t, p.isInt, "param %s is an integer", k)
						assert.Equal(t, w, p.num)
					case string:
						assert.True(t, p.isStr, "param %s is a string", k)
						assert.Equal(t, w, p.str)
					default:
						assert.False(t, p.isInt || p.isStr, "param %s is neither integer nor string", k)
					}
				}
			}
		})
	}
}

func TestParseSFListJoinsFieldLines(t *testing.T) {
	items, ok := parseSFList([]string{`"a";q=1`, `"b";q=2`})
	assert.True(t, ok)
	assert.Len(t, items, 2)
	_, ok = parseSFList([]string{`"a";q=1`, ``})
	assert.False(t, ok, "an empty line makes an empty member")
}

func TestSFParamLastWins(t *testing.T) {
	items, ok := parseSFList([]string{`"a";r=1;r=2`})
	assert.True(t, ok)
	p, _ := items[0].param("r")
	assert.EqualValues(t, 2, p.num, "RFC 8941 §4.2.3.2: a later duplicate overrides")
}
