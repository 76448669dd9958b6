package jobs

import (
	"strings"
	"testing"
	"time"
)

func TestGroupsSpecIsCheckedWithTheJob(t *testing.T) {
	for _, c := range []struct {
		g    GroupsSpec
		want string // in the error; empty: valid
	}{
		{GroupsSpec{}, ""},
		{GroupsSpec{Rule: "max", Gap: "3s"}, ""},
		{GroupsSpec{Rule: "sum"}, "groups rule"},
		{GroupsSpec{Gap: "-1s"}, "groups gap"},
		{GroupsSpec{Gap: "soon"}, "groups gap"},
	} {
		s := Spec{ID: "g", InputURL: "mem://", OutputURL: "mem://", Groups: c.g}
		s.Defaults()
		err := s.Validate()
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.g, err, c.want)
		}
	}
	if d := (GroupsSpec{Gap: "2500ms"}).GapDuration(); d != 2500*time.Millisecond {
		t.Fatalf("gap %v", d)
	}
}
