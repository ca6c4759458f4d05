//! Patch formats the server applies beyond JSON patch and JSON merge patch (which the
//! `json-patch` crate implements): strategic merge patch, driven by the schema.

pub(crate) mod strategic;
