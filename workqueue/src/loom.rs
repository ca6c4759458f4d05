//! The synchronisation types the queue core is built on.
//!
//! Normal builds use `parking_lot`. Under `--cfg kubeforge_loom` the same names
//! resolve to loom's model-checked types, so the loom tests in `src/tests/`
//! explore every interleaving of the real core code. We use our own cfg name
//! rather than `loom` because a global `--cfg loom` also reaches tokio, which
//! does not build (or drops features) under it.

#[cfg(not(kubeforge_loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(not(kubeforge_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(kubeforge_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};

#[cfg(kubeforge_loom)]
pub(crate) use self::mocked::{Mutex, MutexGuard};

#[cfg(kubeforge_loom)]
mod mocked {
    pub(crate) use loom::sync::MutexGuard;

    /// loom's mutex with parking_lot's `lock()` signature.
    ///
    /// The core never panics while holding the lock, and a test that does has
    /// already failed, so a poisoned lock is simply taken over.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
    }
}
