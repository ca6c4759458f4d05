//! [`TestServer`]: a real apiserver inside the test process.

pub(crate) mod faults;
mod kubeconfig;
mod test_server;
pub mod watch_check;

pub use faults::Fault;
pub(crate) use kubeconfig::render as render_kubeconfig;
pub use test_server::{TestServer, TestServerBuilder};
