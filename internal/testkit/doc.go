// Package testkit holds test helpers shared by tailguard's packages: a
// scripted in-memory transport for testing/synctest bubbles, response bodies
// that report whether they were closed, bodies that fail on Read, an
// httptest server that counts the connections it accepts, and an HTTP/2
// server that violates the protocol ([H2Violator]).
//
// It is imported only from _test.go files.
package testkit
