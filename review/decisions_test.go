package review

import (
	"fmt"
	"testing"
)

func TestTheLastDecisionWinsTheSameWayEverywhere(t *testing.T) {
	obj := func(key, reviewer, lines string) object {
		return object{ds: parseDecisions(key, reviewer, []byte(lines))}
	}
	c := &decisions{index: map[string]int32{"a": 0, "b": 1, "c": 2, "d": 3}, n: 4, objs: map[string]object{
		"reviews/ana/S1-000001.jsonl": obj("reviews/ana/S1-000001.jsonl", "ana",
			`{"key":"a","decision":"accept","time":"2026-12-01T10:00:00.000Z"}`+"\n"+
				`{"key":"a","decision":"unsure","time":"2026-12-01T10:00:00.000Z"}`+"\n"+ // same time, later line
				`{"key":"b","decision":"unsure","time":"2026-12-01T10:00:02Z"}`+"\n"+
				`{"key":"c","decision":"unsure","time":"2026-12-01T10:00:00Z"}`+"\n"+
				`{"key":"zz","decision":"unsure","time":"2026-12-01T10:00:00Z"}`+"\n"+ // not in the list
				`{"key":"d","deci`+"\n"), // torn
		"reviews/ana/S2-000001.jsonl": obj("reviews/ana/S2-000001.jsonl", "ana",
			`{"key":"b","decision":"accept","time":"2026-12-01T10:00:01.500Z"}`+"\n"+ // earlier than S1's
				`{"key":"c","decision":"accept","time":"2026-12-01T10:00:00Z"}`+"\n"), // same time, later object
		"reviews/bob.jsonl": obj("reviews/bob.jsonl", "bob",
			`{"key":"c","decision":"class","class":"cat","time":"2026-11-30T09:00:00Z"}`+"\n"), // older
	}}
	for range 5 { // map order must not matter
		c.merge()
		want := map[int]string{0: "unsure", 1: "unsure", 2: "accept"}
		for i, d := range c.last {
			switch {
			case want[i] == "" && d != nil:
				t.Fatalf("item %d decided: %+v", i, d)
			case want[i] != "" && (d == nil || d.Decision.Decision != want[i] || d.Reviewer != "ana"):
				t.Fatalf("item %d: %+v, want %s", i, d, want[i])
			}
		}
		if done, first := c.state(); done != 3 || first != 3 {
			t.Fatalf("done %d, first open %d", done, first)
		}
	}
	own := &stored{Decision: Decision{Key: "d", Decision: "unsure"}, at: 1, obj: "reviews/ana/S3-000001.jsonl"}
	if done := c.add(own); done != 4 {
		t.Fatalf("after this server's decision: %d done", done)
	}
	c.merge()
	if done, first := c.state(); done != 4 || first != -1 {
		t.Fatalf("after a merge: done %d, first open %d", done, first)
	}
}

// BenchmarkMerge merges 10⁵ decisions in 700 objects over 10⁵ items.
func BenchmarkMerge(b *testing.B) {
	const n, per = 100_000, 143
	c := &decisions{index: map[string]int32{}, n: n, objs: map[string]object{}}
	var lines []byte
	for i := range n {
		key := fmt.Sprintf("scans/img-%07d.png", i)
		c.index[key] = int32(i)
		lines = fmt.Appendf(lines, `{"key":%q,"decision":"unsure","reviewer":"ana","time":"2026-12-01T10:%02d:%02d.000Z"}`+"\n", key, i/60%60, i%60)
		if (i+1)%per == 0 || i == n-1 {
			obj := fmt.Sprintf("reviews/ana/S-%06d.jsonl", i/per)
			c.objs[obj] = object{ds: parseDecisions(obj, "ana", lines)}
			lines = nil
		}
	}
	for b.Loop() {
		c.merge()
	}
	if done, _ := c.state(); done != n {
		b.Fatalf("%d done", done)
	}
}
