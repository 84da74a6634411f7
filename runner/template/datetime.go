package template

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pyDateTime is the value of Ansible's now(): a naive Python datetime
// (local time, or UTC with utc=true; either way without a zone, so %z and
// %Z print nothing). It prints as Python's str() does, reads .year ...
// .microsecond, and has the methods strftime, isoformat and timestamp.
type pyDateTime struct {
	t     time.Time
	aware bool // has a UTC offset (to_datetime with %z): prints it, and never mixes with a naive one
}

// String is Python's str(datetime): "2026-12-08 02:06:14.805534", the
// fraction only when there is one.
func (d pyDateTime) String() string { return d.isoformat(" ") }

func (d pyDateTime) isoformat(sep string) string {
	s := d.t.Format("2006-01-02") + sep + d.t.Format("15:04:05")
	if us := d.t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	if d.aware {
		s += d.t.Format("-07:00")
	}
	return s
}

// attr is an attribute of the datetime, for d.year.
func (d pyDateTime) attr(name string) (any, bool) {
	switch name {
	case "year":
		return d.t.Year(), true
	case "month":
		return int(d.t.Month()), true
	case "day":
		return d.t.Day(), true
	case "hour":
		return d.t.Hour(), true
	case "minute":
		return d.t.Minute(), true
	case "second":
		return d.t.Second(), true
	case "microsecond":
		return d.t.Nanosecond() / 1000, true
	}
	return nil, false
}

// clock is the time now() reads; tests replace it.
var clock = time.Now

// fnNow is Ansible's now(utc=False, fmt=None): the datetime, or with fmt
// its strftime text.
func fnNow(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	if len(pos) > 2 {
		return nil, fmt.Errorf("now() takes at most 2 arguments (utc, fmt), got %d", len(pos))
	}
	utc, format := false, any(nil)
	if len(pos) > 0 {
		utc = truthy(pos[0])
	}
	if len(pos) > 1 {
		format = pos[1]
	}
	for k, v := range kw {
		switch k {
		case "utc":
			utc = truthy(v)
		case "fmt":
			format = v
		default:
			return nil, fmt.Errorf("now() got an unexpected keyword argument %q", k)
		}
	}
	t := clock()
	if utc {
		t = t.UTC()
	} else {
		t = t.Local()
	}
	d := pyDateTime{t: t}
	if format == nil {
		return d, nil
	}
	f, ok := format.(string)
	if !ok {
		return nil, fmt.Errorf("now(): fmt must be a string, not %s", show(format))
	}
	return strftime(f, t, false), nil
}

// filterStrftime is Ansible's strftime(string_format, second=None,
// utc=False): time.strftime of the epoch second (now when none) in local
// time, or UTC; a zone-aware struct_time, so %z and %Z print the zone.
func filterStrftime(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	if err := arity("strftime", pos, 0, 2); err != nil {
		return nil, err
	}
	f, ok := pos[0].(string)
	if !ok {
		return nil, fmt.Errorf("strftime: the format must be a string, not %s", show(pos[0]))
	}
	var second any
	if len(pos) > 1 {
		second = pos[1]
	}
	utc := len(pos) > 2 && truthy(pos[2])
	for k, v := range kw {
		switch k {
		case "second":
			second = v
		case "utc":
			utc = truthy(v)
		default:
			return nil, fmt.Errorf("strftime() got an unexpected keyword argument %q", k)
		}
	}
	t := clock()
	if second != nil {
		s, err := toSeconds(second)
		if err != nil {
			return nil, err
		}
		t = time.Unix(0, 0).Add(time.Duration(s * float64(time.Second)))
	}
	if utc {
		t = t.UTC()
	} else {
		t = t.Local()
	}
	return strftime(f, t, true), nil
}

func toSeconds(v any) (float64, error) {
	if f, ok := toFloat(v); ok {
		return f, nil
	}
	if s, ok := v.(string); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("Invalid value for epoch value (%s)", format(v))
}

// strftime formats t as glibc's strftime does in the C locale (what
// Python's time.strftime and datetime.strftime call): the directives of
// C99 and POSIX, glibc's %s, %e, %k, %l and the "-" flag (no padding), %f
// (Python's microseconds). zoned says whether %z and %Z know the zone (a
// naive datetime prints nothing for them). Anything else is copied.
func strftime(f string, t time.Time, zoned bool) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		nopad := false
		if f[i] == '-' && i+1 < len(f) {
			nopad = true
			i++
		}
		num := func(v, width int, pad byte) {
			s := strconv.Itoa(v)
			if !nopad {
				for len(s) < width {
					s = string(pad) + s
				}
			}
			b.WriteString(s)
		}
		hour12 := t.Hour() % 12
		if hour12 == 0 {
			hour12 = 12
		}
		switch c := f[i]; c {
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'w':
			num(int(t.Weekday()), 1, '0')
		case 'u':
			num((int(t.Weekday())+6)%7+1, 1, '0')
		case 'd':
			num(t.Day(), 2, '0')
		case 'e':
			num(t.Day(), 2, ' ')
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'm':
			num(int(t.Month()), 2, '0')
		case 'y':
			num(t.Year()%100, 2, '0')
		case 'Y':
			num(t.Year(), 1, '0')
		case 'C':
			num(t.Year()/100, 2, '0')
		case 'G':
			y, _ := t.ISOWeek()
			num(y, 1, '0')
		case 'g':
			y, _ := t.ISOWeek()
			num(y%100, 2, '0')
		case 'V':
			_, w := t.ISOWeek()
			num(w, 2, '0')
		case 'H':
			num(t.Hour(), 2, '0')
		case 'k':
			num(t.Hour(), 2, ' ')
		case 'I':
			num(hour12, 2, '0')
		case 'l':
			num(hour12, 2, ' ')
		case 'p':
			b.WriteString(map[bool]string{true: "PM", false: "AM"}[t.Hour() >= 12])
		case 'M':
			num(t.Minute(), 2, '0')
		case 'S':
			num(t.Second(), 2, '0')
		case 'f':
			num(t.Nanosecond()/1000, 6, '0')
		case 'j':
			num(t.YearDay(), 3, '0')
		case 'U':
			num((t.YearDay()+6-int(t.Weekday()))/7, 2, '0')
		case 'W':
			num((t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0')
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'z':
			if zoned {
				b.WriteString(t.Format("-0700"))
			}
		case 'Z':
			if zoned {
				name, _ := t.Zone()
				b.WriteString(name)
			}
		case 'c':
			b.WriteString(strftime("%a %b %e %H:%M:%S %Y", t, zoned))
		case 'x', 'D':
			b.WriteString(strftime("%m/%d/%y", t, zoned))
		case 'X', 'T':
			b.WriteString(strftime("%H:%M:%S", t, zoned))
		case 'F':
			b.WriteString(strftime("%Y-%m-%d", t, zoned))
		case 'R':
			b.WriteString(strftime("%H:%M", t, zoned))
		case 'r':
			b.WriteString(strftime("%I:%M:%S %p", t, zoned))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			if nopad {
				b.WriteByte('-')
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// datetime methods: d.strftime(fmt), d.isoformat(sep='T'), d.timestamp().
func init() {
	methodFuncs["_m_strftime"] = func(args ...any) (any, error) {
		d, ok := args[0].(pyDateTime)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("strftime() is a datetime method taking one format; called on %s", show(args[0]))
		}
		f, ok := args[1].(string)
		if !ok {
			return nil, fmt.Errorf("strftime(): the format must be a string, not %s", show(args[1]))
		}
		return strftime(f, d.t, d.aware), nil
	}
	methodFuncs["_m_isoformat"] = func(args ...any) (any, error) {
		d, ok := args[0].(pyDateTime)
		if !ok || len(args) > 2 {
			return nil, fmt.Errorf("isoformat() is a datetime method; called on %s", show(args[0]))
		}
		sep := "T"
		if len(args) == 2 {
			sep = format(args[1])
		}
		return d.isoformat(sep), nil
	}
	methodFuncs["_m_timestamp"] = func(args ...any) (any, error) {
		d, ok := args[0].(pyDateTime)
		if !ok || len(args) != 1 {
			return nil, fmt.Errorf("timestamp() is a datetime method taking no argument; called on %s", show(args[0]))
		}
		return float64(d.t.UnixNano()) / 1e9, nil
	}
}
