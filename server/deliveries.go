package server

import (
	"crypto/sha256"
	"sync"
)

// rememberedDeliveries is how many acted-on webhook deliveries the server
// remembers. Only deliveries that queued (or joined) a promotion take a
// place, so a busy repository's stream of ignored events does not push them
// out.
const rememberedDeliveries = 1024

// deliveries remembers the X-GitHub-Delivery ids of the last deliveries that
// were acted on, so that the same delivery posted again does nothing the
// second time. The id names the event: GitHub's "Redeliver" reuses it, and
// every webhook subscribed to the event gets the same one. It is bounded by
// count: the oldest id is forgotten when a new one comes and all places are
// taken.
type deliveries struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte]struct{}
	ring [][sha256.Size]byte // insertion order; next is the oldest once full
	next int
}

func newDeliveries(n int) *deliveries {
	n = max(n, 1)
	return &deliveries{seen: make(map[[sha256.Size]byte]struct{}, n), ring: make([][sha256.Size]byte, 0, n)}
}

// once runs act unless id is remembered, and remembers id when act reports
// that it handled the delivery; a delivery act could not handle (kupdate is
// shutting down) stays unknown, so its redelivery is acted on. repeat is
// true when id was remembered and act did not run. act runs under the lock,
// so two copies of one delivery arriving at once run it once; it must be
// quick and must not call back into d. An empty id (not GitHub's: it always
// sends one) cannot be told apart from another and is never remembered.
func (d *deliveries) once(id string, act func() (handled bool)) (repeat bool) {
	if id == "" {
		act()
		return false
	}
	// Keyed by a digest, so the memory stays bounded whatever length the
	// header has.
	key := sha256.Sum256([]byte(id))
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.seen[key]; ok {
		return true
	}
	if act() {
		d.add(key)
	}
	return false
}

// add remembers key, forgetting the oldest when full. key is not in d.seen.
func (d *deliveries) add(key [sha256.Size]byte) {
	if len(d.ring) < cap(d.ring) {
		d.ring = append(d.ring, key)
	} else {
		delete(d.seen, d.ring[d.next])
		d.ring[d.next] = key
		d.next = (d.next + 1) % len(d.ring)
	}
	d.seen[key] = struct{}{}
}
