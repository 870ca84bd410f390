//! Linux-only extensions, as `std::os::linux`: a child's pidfd.
//!
//! ```
//! use aria_io::os::linux::ChildExt;
//! use aria_io::process::Command;
//! use std::os::fd::AsRawFd;
//!
//! aria_io::Runtime::new()?.block_on(async {
//!     let mut child = Command::new("true").spawn()?;
//!     assert!(child.pidfd().as_raw_fd() >= 0);
//!     child.wait().await?;
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```

use std::os::fd::{AsFd, BorrowedFd};

use crate::process::Child;

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::process::Child {}
}

/// Linux-only operations on a [`Child`]. Sealed.
pub trait ChildExt: sealed::Sealed {
    /// The pidfd: readable once the child has exited.
    fn pidfd(&self) -> BorrowedFd<'_>;
}

impl ChildExt for Child {
    fn pidfd(&self) -> BorrowedFd<'_> {
        self.source().as_fd()
    }
}

/// The same trait, where `std::os::linux::process` keeps its own.
pub mod process {
    pub use super::ChildExt;
}
