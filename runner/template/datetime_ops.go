package template

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pyTimeDelta is a Python timedelta, the difference of two datetimes:
// whole microseconds, read as .days, .seconds, .microseconds (Python's
// normalised parts: seconds and microseconds never negative) and
// .total_seconds().
type pyTimeDelta struct{ us int64 }

func (d pyTimeDelta) parts() (days, secs, us int64) {
	days = floorDiv(d.us, 86_400_000_000)
	rest := d.us - days*86_400_000_000
	return days, rest / 1_000_000, rest % 1_000_000
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// String is Python's str(timedelta): "1 day, 2:03:04", "-1 day, 23:59:55",
// "0:00:05.000100".
func (d pyTimeDelta) String() string {
	days, secs, us := d.parts()
	s := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs%3600/60, secs%60)
	if us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	if days != 0 {
		unit := "days"
		if days == 1 || days == -1 {
			unit = "day"
		}
		s = fmt.Sprintf("%d %s, %s", days, unit, s)
	}
	return s
}

func (d pyTimeDelta) attr(name string) (any, bool) {
	days, secs, us := d.parts()
	switch name {
	case "days":
		return int(days), true
	case "seconds":
		return int(secs), true
	case "microseconds":
		return int(us), true
	}
	return nil, false
}

// opSub is Jinja's binary minus: numbers as Python subtracts them, and
// datetimes: datetime - datetime is a timedelta, datetime - timedelta a
// datetime, timedelta - timedelta a timedelta.
func opSub(args ...any) (any, error) {
	a, b := args[0], args[1]
	switch x := a.(type) {
	case pyDateTime:
		switch y := b.(type) {
		case pyDateTime:
			if x.aware != y.aware {
				return nil, fmt.Errorf("can't subtract offset-naive and offset-aware datetimes")
			}
			return pyTimeDelta{x.micros() - y.micros()}, nil
		case pyTimeDelta:
			return x.add(-y.us), nil
		}
	case pyTimeDelta:
		if y, ok := b.(pyTimeDelta); ok {
			return pyTimeDelta{x.us - y.us}, nil
		}
	}
	ia, ib, fa, fb, ints, ok := numbers(a, b)
	if !ok {
		return nil, typeError("-", a, b)
	}
	if ints {
		return ia - ib, nil
	}
	return fa - fb, nil
}

// addTimes is the datetime part of Jinja's +: datetime + timedelta and
// timedelta + timedelta (either order); ok is false for other operands.
func addTimes(a, b any) (any, bool) {
	switch x := a.(type) {
	case pyDateTime:
		if y, ok := b.(pyTimeDelta); ok {
			return x.add(y.us), true
		}
	case pyTimeDelta:
		switch y := b.(type) {
		case pyTimeDelta:
			return pyTimeDelta{x.us + y.us}, true
		case pyDateTime:
			return y.add(x.us), true
		}
	}
	return nil, false
}

// micros is the datetime's time as microseconds since the epoch: of its
// wall clock for a naive one (as Python subtracts naive datetimes), of
// the instant for an aware one.
func (d pyDateTime) micros() int64 {
	t := d.t
	if !d.aware {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return t.UnixMicro()
}

func (d pyDateTime) add(us int64) pyDateTime {
	return pyDateTime{t: d.t.Add(time.Duration(us) * time.Microsecond), aware: d.aware}
}

// filterToDatetime is Ansible's to_datetime(string, format='%Y-%m-%d
// %H:%M:%S'): Python's datetime.strptime.
func filterToDatetime(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	if err := arity("to_datetime", pos, 0, 1); err != nil {
		return nil, err
	}
	layout := "%Y-%m-%d %H:%M:%S"
	if len(pos) > 1 {
		layout = format(pos[1])
	}
	if v, ok := kw["format"]; ok {
		layout = format(v)
	}
	return strptime(format(pos[0]), layout)
}

// strptimeRE are the regular expressions of Python's _strptime for each
// directive (case-insensitive, as Python compiles them).
var strptimeRE = map[byte]string{
	'd': `(?P<d>3[01]|[12]\d|0[1-9]|[1-9]| [1-9])`,
	'f': `(?P<f>[0-9]{1,6})`,
	'H': `(?P<H>2[0-3]|[0-1]\d|\d)`,
	'I': `(?P<I>1[0-2]|0[1-9]|[1-9])`,
	'j': `(?P<j>36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
	'm': `(?P<m>1[0-2]|0[1-9]|[1-9])`,
	'M': `(?P<M>[0-5]\d|\d)`,
	'S': `(?P<S>6[0-1]|[0-5]\d|\d)`,
	'y': `(?P<y>\d\d)`,
	'Y': `(?P<Y>\d\d\d\d)`,
	'z': `(?P<z>[+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|Z)`,
	'p': `(?P<p>am|pm)`,
	'b': `(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`,
	'B': `(?P<B>january|february|march|april|may|june|july|august|september|october|november|december)`,
	'a': `(?P<a>mon|tue|wed|thu|fri|sat|sun)`,
	'A': `(?P<A>monday|tuesday|wednesday|thursday|friday|saturday|sunday)`,
	'Z': `(?P<Z>utc|gmt)`,
}

// strptime is Python's datetime.strptime in the C locale: the format's
// whitespace matches any run of whitespace, letters match in any case,
// the whole string must be consumed. %z makes the datetime aware.
func strptime(s, layout string) (any, error) {
	var re strings.Builder
	re.WriteString("(?i)^")
	seen := map[byte]bool{}
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		switch {
		case c == '%' && i+1 < len(layout):
			i++
			d := layout[i]
			if d == '%' {
				re.WriteString("%")
				continue
			}
			pat, ok := strptimeRE[d]
			if !ok {
				return nil, fmt.Errorf("to_datetime: '%c' is a bad directive in format %q", d, layout)
			}
			if seen[d] {
				return nil, fmt.Errorf("to_datetime: redefinition of group name %q in format %q", string(d), layout)
			}
			seen[d] = true
			re.WriteString(pat)
		case c == ' ' || c == '\t' || c == '\n':
			re.WriteString(`\s+`)
			for i+1 < len(layout) && strings.ContainsRune(" \t\n", rune(layout[i+1])) {
				i++
			}
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("to_datetime: format %q: %w", layout, err)
	}
	m := rx.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("time data %q does not match format %q", s, layout)
	}
	if len(m[0]) != len(s) {
		return nil, fmt.Errorf("unconverted data remains: %s", s[len(m[0]):])
	}
	g := map[string]string{}
	for i, name := range rx.SubexpNames() {
		if name != "" {
			g[name] = strings.ToLower(m[i])
		}
	}
	num := func(k string, def int) int {
		if v, ok := g[k]; ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
		return def
	}
	year, month, day := num("Y", 1900), num("m", 1), num("d", 1)
	if v, ok := g["y"]; ok {
		y, _ := strconv.Atoi(v)
		if y < 69 {
			year = 2000 + y
		} else {
			year = 1900 + y
		}
	}
	for _, k := range []string{"b", "B"} {
		if v, ok := g[k]; ok {
			for m := time.January; m <= time.December; m++ {
				if strings.HasPrefix(strings.ToLower(m.String()), v) {
					month = int(m)
					break
				}
			}
		}
	}
	hour := num("H", 0)
	if v, ok := g["I"]; ok {
		hour, _ = strconv.Atoi(v)
		switch {
		case g["p"] == "pm" && hour != 12:
			hour += 12
		case g["p"] != "pm" && hour == 12:
			hour = 0
		}
	}
	us := 0
	if v, ok := g["f"]; ok {
		us, _ = strconv.Atoi(v + strings.Repeat("0", 6-len(v)))
	}
	loc, aware := time.UTC, false
	if v, ok := g["z"]; ok {
		aware = true
		if v != "z" {
			sign := 1
			if v[0] == '-' {
				sign = -1
			}
			digits := strings.ReplaceAll(v[1:], ":", "")
			h, _ := strconv.Atoi(digits[0:2])
			mi, _ := strconv.Atoi(digits[2:4])
			sec := 0
			if len(digits) >= 6 {
				sec, _ = strconv.Atoi(digits[4:6])
			}
			loc = time.FixedZone(utcName(sign*(h*3600+mi*60+sec)), sign*(h*3600+mi*60+sec))
		}
	}
	if _, ok := g["j"]; ok && !seen['m'] && !seen['d'] && !seen['b'] && !seen['B'] {
		t := time.Date(year, 1, 1, hour, num("M", 0), num("S", 0), us*1000, loc).AddDate(0, 0, num("j", 1)-1)
		return pyDateTime{t: t, aware: aware}, nil
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return nil, fmt.Errorf("day is out of range for month")
	}
	return pyDateTime{t: time.Date(year, time.Month(month), day, hour, num("M", 0), num("S", 0), us*1000, loc), aware: aware}, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// utcName is Python's name of a fixed offset: UTC, UTC+02:00, UTC-05:30.
func utcName(off int) string {
	if off == 0 {
		return "UTC"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
}

func init() {
	methodFuncs["_m_total_seconds"] = func(args ...any) (any, error) {
		d, ok := args[0].(pyTimeDelta)
		if !ok || len(args) != 1 {
			return nil, fmt.Errorf("total_seconds() is a timedelta method taking no argument; called on %s", show(args[0]))
		}
		return float64(d.us) / 1e6, nil
	}
}
