//! Platform-specific extensions of the portable API, in the shape of `std::os`: extension
//! traits to import where a program uses what only one platform family has.
//!
//! - [`unix`]: process groups, sessions, terminals, credentials, `argv[0]` and signals
//!   (Linux, macOS, FreeBSD).
//! - [`linux`]: a child's pidfd.
//!
//! The portable API (`process::{Command, Child, Pipeline}`, `ExitStatus`, `signal::ctrl_c`,
//! `fs`, `io`, `net`, `time`, `sync`) compiles on every platform with the same meaning.
//!
//! ```
//! #[cfg(unix)]
//! use aria_io::os::unix::CommandExt;
//!
//! let mut cmd = aria_io::process::Command::new("true");
//! #[cfg(unix)]
//! cmd.process_group(0);
//! # let _ = cmd;
//! ```

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(unix)]
pub mod unix;
