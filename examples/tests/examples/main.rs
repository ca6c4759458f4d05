//! Every example against the in-process test server.

mod configmap_hash;
mod echo_operator;
mod informer_tour;
mod leader_elected;
mod support;
