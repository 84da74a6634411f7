package diag

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Pos: Pos{File: "site.yml", Line: 7, Col: 19}, Field: "tasks[1].sysctl.reload", Msg: "must be true or false"}, "site.yml:7:19: tasks[1].sysctl.reload: must be true or false"},
		{&Error{Pos: Pos{File: "site.yml", Line: 4, Col: 1}, Msg: "malformed YAML: x"}, "site.yml:4:1: malformed YAML: x"},
		{&Error{Pos: Pos{File: "hosts.ini", Line: 3}, Msg: "bad line"}, "hosts.ini:3: bad line"},
		{&Error{Pos: Pos{File: "hosts.yml"}, Msg: "empty inventory"}, "hosts.yml: empty inventory"},
		{Errorf(Pos{File: "a", Line: 1, Col: 2}, "f", "%d%% of %s", 30, "x"), "a:1:2: f: 30% of x"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func at(file string, line, col int, msg string) *Error {
	return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: msg}
}

func TestListSortsFlattensAndUnwraps(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list: Err() != nil")
	}
	single := at("b.yml", 9, 1, "one")
	l.Append(single)
	if l.Err() != single {
		t.Fatalf("one error: Err() = %v, want the *Error itself", l.Err())
	}
	for _, err := range []error{nil, List{at("b.yml", 2, 5, "two"), at("a.yml", 30, 1, "three")}, at("b.yml", 2, 3, "four")} {
		if !l.Append(err) {
			t.Fatalf("Append(%v) = false", err)
		}
	}
	if l.Append(errors.New("plain")) || l.Append(fmt.Errorf("wrapped: %w", single)) {
		t.Error("Append took an error that is neither *Error nor List")
	}
	err := l.Err()
	want := "a.yml:30:1: three\nb.yml:2:3: four\nb.yml:2:5: two\nb.yml:9:1: one"
	if err.Error() != want {
		t.Errorf("sorted list:\n%s\nwant:\n%s", err, want)
	}
	if files := fmt.Sprint(l.Files()); files != "[a.yml b.yml]" {
		t.Errorf("Files() = %s", files)
	}
	var e *Error
	if !errors.As(fmt.Errorf("ctx: %w", err), &e) || e.Msg != "three" {
		t.Errorf("errors.As through a List = %v", e)
	}
	var got List
	if !errors.As(fmt.Errorf("ctx: %w", err), &got) || len(got) != 4 {
		t.Errorf("errors.As to List = %v", got)
	}
	if !errors.Is(err, single) {
		t.Error("errors.Is does not find an *Error in the List")
	}
}
