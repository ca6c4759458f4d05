//! The informer against a real `TestServer`, over HTTP.

mod chaos;
mod events;
mod factory;
mod informer;
mod reflector;
mod support;
