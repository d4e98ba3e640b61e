package server

import (
	"fmt"
	"testing"
)

func TestDeliveriesOnce(t *testing.T) {
	type post struct {
		id      string
		handled bool // what act reports
		acted   bool // want: act ran
	}
	for _, tc := range []struct {
		name  string
		n     int
		posts []post
	}{
		{"repeat", 3, []post{{"a", true, true}, {"a", true, false}, {"a", true, false}}},
		{"not handled is not remembered", 3, []post{{"a", false, true}, {"a", true, true}, {"a", true, false}}},
		{"no id is never remembered", 3, []post{{"", true, true}, {"", true, true}}},
		{"distinct ids", 3, []post{{"a", true, true}, {"b", true, true}, {"c", true, true}, {"a", true, false}, {"c", true, false}}},
		{"n+1 forgets the oldest", 3, []post{
			{"a", true, true}, {"b", true, true}, {"c", true, true}, {"d", true, true},
			{"b", true, false}, {"c", true, false}, {"d", true, false}, {"a", true, true},
		}},
		{"a returning id is the newest", 2, []post{
			{"a", true, true}, {"b", true, true}, {"c", true, true}, {"a", true, true},
			{"c", true, false}, {"a", true, false}, {"b", true, true},
		}},
		{"unhandled ones take no place", 2, []post{
			{"a", true, true}, {"b", true, true}, {"x", false, true}, {"y", false, true}, {"a", true, false}, {"b", true, false},
		}},
		{"one place", 1, []post{{"a", true, true}, {"a", true, false}, {"b", true, true}, {"a", true, true}, {"b", true, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeliveries(tc.n)
			for i, p := range tc.posts {
				acted := false
				repeat := d.once(p.id, func() bool { acted = true; return p.handled })
				if acted != p.acted || repeat == acted {
					t.Errorf("post %d (%q): acted %v, repeat %v; want acted %v", i+1, p.id, acted, repeat, p.acted)
				}
			}
			if len(d.seen) > tc.n || len(d.ring) > tc.n {
				t.Errorf("remembers %d ids in %d places, want at most %d", len(d.seen), len(d.ring), tc.n)
			}
		})
	}
}

// Memory stays bounded however many deliveries come.
func TestDeliveriesBounded(t *testing.T) {
	d := newDeliveries(rememberedDeliveries)
	for i := range 3 * rememberedDeliveries {
		d.once(fmt.Sprint(i), func() bool { return true })
	}
	if len(d.seen) != rememberedDeliveries || len(d.ring) != rememberedDeliveries {
		t.Errorf("remembers %d ids in %d places, want %d", len(d.seen), len(d.ring), rememberedDeliveries)
	}
}
