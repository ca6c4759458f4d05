//! [`TestServer`]: a real apiserver inside the test process.

mod kubeconfig;
mod test_server;

pub(crate) use kubeconfig::render as render_kubeconfig;
pub use test_server::{TestServer, TestServerBuilder};
