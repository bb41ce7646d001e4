package load

import (
	crand "crypto/rand"
	"math/rand/v2"
)

// Namer returns a name for an object whose metadata has only generateName.
type Namer func(generateName string) string

// nameAlphabet is the alphabet Kubernetes draws generated suffixes from.
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// suffixLen is how many characters Kubernetes appends to generateName.
const suffixLen = 5

// NewNamer returns a Namer that appends five characters drawn from src, as
// the Kubernetes API server does. The same source gives the same names.
func NewNamer(src rand.Source) Namer {
	r := rand.New(src)
	return func(prefix string) string {
		b := make([]byte, suffixLen)
		for i := range b {
			b[i] = nameAlphabet[r.IntN(len(nameAlphabet))]
		}
		return prefix + string(b)
	}
}

// RandomNamer returns a Namer seeded from the operating system's random
// source.
func RandomNamer() Namer {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails
	return NewNamer(rand.NewChaCha8(seed))
}
