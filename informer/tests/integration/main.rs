//! The informer against a real `TestServer`, over HTTP.

mod chaos;
mod controller;
mod events;
mod factory;
mod finalizer;
mod informer;
mod leader;
mod reflector;
mod support;
