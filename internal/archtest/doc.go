// Package archtest holds the layering rules of the code base as a test: which
// internal package may import which, and which package alone may use each
// third-party library. It has no code of its own.
package archtest
