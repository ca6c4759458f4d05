//! Runnable kubeforge programs; each has a library module, a thin binary and a test
//! against the in-process test server.
