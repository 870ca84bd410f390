//! The platform layer: every system call the runtime makes goes through here. One room per
//! platform family, in the shape of std's and mio's `sys`: [`unix`] (POSIX, with its `linux`
//! and `bsd` rooms). The layers above name `sys::item` and never test the target themselves.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use self::unix::*;

// The Windows room starts with what needs no system call: command lines for CreateProcessW
// (`windows/args.rs`), the environment block and the `__ARIA_FD_MAP` of streams 3-5
// (`windows/env.rs`), compiled and tested on every platform until the room is complete.
#[cfg(test)]
#[path = "windows/args.rs"]
mod windows_args;
#[cfg(test)]
#[path = "windows/env.rs"]
mod windows_env;
