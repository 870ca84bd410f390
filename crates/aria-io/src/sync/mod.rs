//! Synchronization primitives for async code: channels, locks, semaphores, notification.
//!
//! These are runtime-agnostic futures: they work on any executor, and every waiting
//! operation is cancellation-safe as documented per method.
