//! placeholder
pub mod storage;
