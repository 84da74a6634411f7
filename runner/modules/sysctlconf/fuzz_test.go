package sysctlconf

import (
	"bytes"
	"testing"
)

var fuzzKeys = []string{
	"net.ipv4.tcp_fin_timeout",
	"net/ipv4/tcp_syn_retries",
	"net.ipv4.conf.eth0/100.rp_filter",
	"net.ipv4.tcp_tw_recycle",
	"a.b",
}

// FuzzEdit checks, for any file content and wanted values: Edit does not
// panic; every line it reports untouched is byte-identical and in order;
// sysctl -p would leave each wanted key at its value and no absent key set;
// and a second Edit is a no-op.
func FuzzEdit(f *testing.F) {
	f.Add([]byte("net.ipv4.tcp_fin_timeout = 60\n# c\n"), "30", "2", uint8(0b00111), uint8(0b01000))
	f.Add([]byte("a.b=1\r\nnet/ipv4/tcp_syn_retries = 5"), "x y", "", uint8(0b10011), uint8(0))
	f.Add([]byte("-net.ipv4.tcp_tw_recycle=1\nnet.ipv4.tcp_tw_recycle\n=\n\x00\n"), "\t1\t", "0755", uint8(0b00101), uint8(0b01000))
	f.Add([]byte(""), "1", "2", uint8(0b11111), uint8(0))
	f.Add([]byte("net.ipv4.conf.eth0/100.rp_filter =\nnet/ipv4/conf/eth0.100/rp_filter=7 # x\n"), "2", "yes", uint8(0b00100), uint8(0b00001))
	f.Fuzz(func(t *testing.T, content []byte, v1, v2 string, wantMask, absentMask uint8) {
		if ValidateValue(v1) != nil || ValidateValue(v2) != nil {
			t.Skip()
		}
		var want []Setting
		var absent []string
		for i, k := range fuzzKeys {
			if wantMask&(1<<i) != 0 {
				v := v1
				if i%2 == 1 {
					v = v2
				}
				want = append(want, Setting{Key: k, Value: v})
			} else if absentMask&(1<<i) != 0 {
				absent = append(absent, k)
			}
		}

		out, edits := Edit(content, want, absent)

		// Rebuild the expected kept prefix from the old lines and the edits.
		byLine := map[int]LineEdit{}
		appended := 0
		for _, e := range edits {
			if e.Kind == Appended {
				appended++
			} else {
				byLine[e.Line] = e
			}
		}
		var kept []Line
		for _, l := range Parse(content) {
			e, ok := byLine[l.Num]
			switch {
			case ok && e.Kind == Removed:
				continue
			case ok && e.Kind == Changed:
				if e.Before != string(l.Text) {
					t.Fatalf("line %d: edit Before %q, line is %q", l.Num, e.Before, l.Text)
				}
				l.Text = []byte(e.After)
			}
			kept = append(kept, l)
		}
		got := Parse(out)
		if len(got) < len(kept) {
			t.Fatalf("output has %d lines, %d kept:\n%q", len(got), len(kept), out)
		}
		for i, l := range kept {
			text := got[i].Text
			if i == len(kept)-1 && !l.NL && appended > 0 && bytes.Equal(text, append(l.Text, '\r')) {
				// The last line got the file's line ending, "\r\n".
				text = l.Text
			}
			if !bytes.Equal(text, l.Text) {
				t.Fatalf("line %d changed: %q → %q", l.Num, l.Text, got[i].Text)
			}
			if got[i].NL != l.NL && (i != len(kept)-1 || appended == 0) {
				t.Fatalf("line %d: newline changed", l.Num)
			}
		}
		if appended == 0 && len(got) != len(kept) {
			t.Fatalf("lines added without an Appended edit: %q", out)
		}

		eff := Effective(out)
		for _, w := range want {
			if v, ok := eff[Canonical(w.Key)]; !ok || !ValuesEqual(v, w.Value) {
				t.Fatalf("effective %s = %q (%v), want %q\n%q", w.Key, v, ok, w.Value, out)
			}
		}
		for _, k := range absent {
			if v, ok := eff[Canonical(k)]; ok {
				t.Fatalf("absent %s still set to %q\n%q", k, v, out)
			}
		}
		again, more := Edit(out, want, absent)
		if !bytes.Equal(again, out) || len(more) != 0 {
			t.Fatalf("second Edit not a no-op: %+v", more)
		}
	})
}
