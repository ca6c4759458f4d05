//! The informer against a real `TestServer`, over HTTP.

mod chaos;
mod factory;
mod informer;
mod leader;
mod reflector;
mod support;
