//! The platform layer: every system call the runtime makes goes through here. One room per
//! platform family, in the shape of std's and mio's `sys`: [`unix`] (POSIX, with its `linux`
//! and `bsd` rooms). The layers above name `sys::item` and never test the target themselves.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use self::unix::*;
