package sysctlconf

import (
	"bytes"
	"testing"
)

func kv(pairs ...string) []Setting {
	var out []Setting
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Setting{Key: pairs[i], Value: pairs[i+1]})
	}
	return out
}

func TestEdit(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []Setting
		absent []string
		out    string
		kinds  []EditKind
	}{
		{
			name: "nothing to do keeps bytes",
			in:   "# c\nnet.ipv4.tcp_fin_timeout = 30\n",
			want: kv("net.ipv4.tcp_fin_timeout", "30"),
			out:  "# c\nnet.ipv4.tcp_fin_timeout = 30\n",
		},
		{
			name: "normalised value is equal",
			in:   "net.ipv4.tcp_rmem =\t4096\t87380 6291456\n",
			want: kv("net.ipv4.tcp_rmem", "4096 87380  6291456"),
			out:  "net.ipv4.tcp_rmem =\t4096\t87380 6291456\n",
		},
		{
			name:  "change in place keeps spacing",
			in:    "  net.ipv4.tcp_fin_timeout\t=  60   # old\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "  net.ipv4.tcp_fin_timeout\t=  30\n",
			kinds: []EditKind{Changed},
		},
		{
			name:  "change tight keeps tight, value with spaces trimmed",
			in:    "a=1\nnet.ipv4.tcp_fin_timeout=60 \nb=2\n",
			want:  kv("net.ipv4.tcp_fin_timeout", " 30 "),
			out:   "a=1\nnet.ipv4.tcp_fin_timeout=30 \nb=2\n",
			kinds: []EditKind{Changed},
		},
		{
			name:  "duplicates: last one is changed, earlier ones kept",
			in:    "net.ipv4.tcp_fin_timeout = 10\n# x\nnet/ipv4/tcp_fin_timeout=20\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "net.ipv4.tcp_fin_timeout = 10\n# x\nnet/ipv4/tcp_fin_timeout=30\n",
			kinds: []EditKind{Changed},
		},
		{
			name: "duplicates: last already right, nothing changes",
			in:   "net.ipv4.tcp_fin_timeout = 10\nnet.ipv4.tcp_fin_timeout = 30\n",
			want: kv("net.ipv4.tcp_fin_timeout", "30"),
			out:  "net.ipv4.tcp_fin_timeout = 10\nnet.ipv4.tcp_fin_timeout = 30\n",
		},
		{
			name:  "commented key is not a setting: appended",
			in:    "# net.ipv4.tcp_fin_timeout = 30\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "# net.ipv4.tcp_fin_timeout = 30\n# added by tend\nnet.ipv4.tcp_fin_timeout = 30\n",
			kinds: []EditKind{Appended},
		},
		{
			name:  "append to file without final newline",
			in:    "a = 1\nb = 2",
			want:  kv("net.ipv4.tcp_syn_retries", "2", "net.ipv4.tcp_fin_timeout", "30"),
			out:   "a = 1\nb = 2\n# added by tend\nnet.ipv4.tcp_syn_retries = 2\nnet.ipv4.tcp_fin_timeout = 30\n",
			kinds: []EditKind{Appended, Appended},
		},
		{
			name:  "append follows tight style and CRLF",
			in:    "a=1\r\nb=2\r\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "a=1\r\nb=2\r\n# added by tend\r\nnet.ipv4.tcp_fin_timeout=30\r\n",
			kinds: []EditKind{Appended},
		},
		{
			name:  "second append reuses heading",
			in:    "# added by tend\nnet.ipv4.tcp_fin_timeout = 30\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30", "net.ipv4.tcp_syn_retries", "2"),
			out:   "# added by tend\nnet.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_syn_retries = 2\n",
			kinds: []EditKind{Appended},
		},
		{
			name:  "empty file",
			in:    "",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "# added by tend\nnet.ipv4.tcp_fin_timeout = 30\n",
			kinds: []EditKind{Appended},
		},
		{
			name:  "change in CRLF line keeps CR; change last line without newline",
			in:    "net.ipv4.tcp_syn_retries = 5\r\nnet.ipv4.tcp_fin_timeout=60",
			want:  kv("net.ipv4.tcp_syn_retries", "2", "net.ipv4.tcp_fin_timeout", "30"),
			out:   "net.ipv4.tcp_syn_retries = 2\r\nnet.ipv4.tcp_fin_timeout=30",
			kinds: []EditKind{Changed, Changed},
		},
		{
			name:  "empty value gets one",
			in:    "net.ipv4.tcp_fin_timeout = \r\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "net.ipv4.tcp_fin_timeout = 30\r\n",
			kinds: []EditKind{Changed},
		},
		{
			name:  "ignore-errors marker kept",
			in:    "-net.ipv4.tcp_fin_timeout = 60\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "-net.ipv4.tcp_fin_timeout = 30\n",
			kinds: []EditKind{Changed},
		},
		{
			name:  "slash key in file matches dotted want",
			in:    "net/ipv4/conf/eth0.100/rp_filter = 1\n",
			want:  kv("net.ipv4.conf.eth0/100.rp_filter", "2"),
			out:   "net/ipv4/conf/eth0.100/rp_filter = 2\n",
			kinds: []EditKind{Changed},
		},
		{
			name:   "absent removes every explicit line, not globs or comments",
			in:     "a = 1\nnet.ipv4.tcp_tw_recycle = 1\n# net.ipv4.tcp_tw_recycle = 1\n-net/ipv4/tcp_tw_recycle=0\nnet.ipv4.*_recycle = 1\nb = 2",
			absent: []string{"net.ipv4.tcp_tw_recycle"},
			out:    "a = 1\n# net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.*_recycle = 1\nb = 2",
			kinds:  []EditKind{Removed, Removed},
		},
		{
			name:   "absent last line without newline",
			in:     "a = 1\nnet.ipv4.tcp_tw_recycle = 1",
			absent: []string{"net.ipv4.tcp_tw_recycle"},
			out:    "a = 1\n",
			kinds:  []EditKind{Removed},
		},
		{
			name:  "glob line is not our key",
			in:    "net.ipv4.tcp_fin_timeou? = 60\n",
			want:  kv("net.ipv4.tcp_fin_timeout", "30"),
			out:   "net.ipv4.tcp_fin_timeou? = 60\n# added by tend\nnet.ipv4.tcp_fin_timeout = 30\n",
			kinds: []EditKind{Appended},
		},
		{
			name: "invalid lines untouched",
			in:   "garbage line\nnet.ipv4.tcp_fin_timeout=30\n",
			want: kv("net.ipv4.tcp_fin_timeout", "30"),
			out:  "garbage line\nnet.ipv4.tcp_fin_timeout=30\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, edits := Edit([]byte(tt.in), tt.want, tt.absent)
			if string(got) != tt.out {
				t.Fatalf("Edit:\n got %q\nwant %q", got, tt.out)
			}
			if len(edits) != len(tt.kinds) {
				t.Fatalf("edits = %+v, want kinds %v", edits, tt.kinds)
			}
			for i, e := range edits {
				if e.Kind != tt.kinds[i] {
					t.Errorf("edit %d = %+v, want %v", i, e, tt.kinds[i])
				}
			}
			eff := Effective(got)
			for _, w := range tt.want {
				if !ValuesEqual(eff[Canonical(w.Key)], w.Value) {
					t.Errorf("effective %s = %q, want %q", w.Key, eff[Canonical(w.Key)], w.Value)
				}
			}
			for _, k := range tt.absent {
				if v, ok := eff[Canonical(k)]; ok {
					t.Errorf("absent %s still set to %q", k, v)
				}
			}
			again, more := Edit(got, tt.want, tt.absent)
			if !bytes.Equal(again, got) || len(more) != 0 {
				t.Errorf("second Edit not a no-op: %q %+v", again, more)
			}
		})
	}
}

func TestEditEditsCarryLines(t *testing.T) {
	_, edits := Edit([]byte("a = 1\nnet.ipv4.tcp_fin_timeout = 60\n"), kv("net/ipv4/tcp_fin_timeout", "30"), nil)
	want := LineEdit{Key: "net.ipv4.tcp_fin_timeout", Kind: Changed, Line: 2, Before: "net.ipv4.tcp_fin_timeout = 60", After: "net.ipv4.tcp_fin_timeout = 30"}
	if len(edits) != 1 || edits[0] != want {
		t.Fatalf("edits = %+v", edits)
	}
}
