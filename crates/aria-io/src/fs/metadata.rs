use std::fmt;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

/// Information about a file: what statx(2) (Linux) or fstatat(2) reports, the same on every
/// backend.
///
/// Returned by [`File::metadata`](super::File::metadata), [`metadata`](super::metadata) and
/// [`symlink_metadata`](super::symlink_metadata).
///
/// # References
/// statx(2), inode(7)
#[derive(Clone)]
pub struct Metadata {
    mode: u32,
    len: u64,
    ino: u64,
    dev: u64,
    nlink: u64,
    uid: u32,
    gid: u32,
    blksize: u64,
    blocks: u64,
    accessed: SystemTime,
    modified: SystemTime,
    changed: SystemTime,
    created: Option<SystemTime>,
}

// The file type bits of a mode, as u32: `mode_t` is a u32 on Linux and FreeBSD, a u16 on
// macOS (so the casts are no-ops on some systems).
#[allow(clippy::unnecessary_cast)]
const IFMT: u32 = libc::S_IFMT as u32;
#[allow(clippy::unnecessary_cast)]
const IFREG: u32 = libc::S_IFREG as u32;
#[allow(clippy::unnecessary_cast)]
const IFDIR: u32 = libc::S_IFDIR as u32;
#[allow(clippy::unnecessary_cast)]
const IFLNK: u32 = libc::S_IFLNK as u32;

/// A time as the kernel reports it: seconds since the epoch (negative before) and
/// nanoseconds.
fn time((sec, nsec): (i64, u32)) -> SystemTime {
    let nanos = Duration::from_nanos(u64::from(nsec));
    if sec >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(sec as u64) + nanos
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(sec.unsigned_abs()) + nanos
    }
}

impl Metadata {
    /// From what a stat call reported (statx(2) on Linux, fstatat(2) elsewhere).
    pub(crate) fn from_stat(st: &crate::sys::fs::FileStat) -> Metadata {
        Metadata {
            mode: st.mode,
            len: st.len,
            ino: st.ino,
            dev: st.dev,
            nlink: st.nlink,
            uid: st.uid,
            gid: st.gid,
            blksize: st.blksize,
            blocks: st.blocks,
            accessed: time(st.accessed),
            modified: time(st.modified),
            changed: time(st.changed),
            created: st.created.map(time),
        }
    }

    /// The size of the file, in bytes (for a symbolic link: the length of its target path).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the size is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & IFMT == IFREG
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & IFMT == IFDIR
    }

    /// Whether this is a symbolic link (only from [`symlink_metadata`](super::symlink_metadata);
    /// the other functions follow links).
    pub fn is_symlink(&self) -> bool {
        self.mode & IFMT == IFLNK
    }

    /// The full `st_mode`: file type bits and permission bits.
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// The permission bits (`mode & 0o7777`), as `std`'s type.
    pub fn permissions(&self) -> std::fs::Permissions {
        std::fs::Permissions::from_mode(self.mode & 0o7777)
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The device holding the file (`makedev(major, minor)`).
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// The number of hard links.
    pub fn nlink(&self) -> u64 {
        self.nlink
    }

    /// The owner's user id.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The owner's group id.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// The preferred block size for I/O, in bytes.
    pub fn blksize(&self) -> u64 {
        self.blksize
    }

    /// The number of 512-byte blocks allocated (less than `len / 512` for sparse files).
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// The time of the last access (`stx_atime`; how often it is updated depends on mount
    /// options such as `relatime`).
    ///
    /// # Errors
    /// None on Linux; a `Result` for `std` compatibility.
    pub fn accessed(&self) -> io::Result<SystemTime> {
        Ok(self.accessed)
    }

    /// The time of the last modification of the contents (`stx_mtime`).
    ///
    /// # Errors
    /// None on Linux; a `Result` for `std` compatibility.
    pub fn modified(&self) -> io::Result<SystemTime> {
        Ok(self.modified)
    }

    /// The time of the last status change (`stx_ctime`: contents, owner, mode, links).
    pub fn changed(&self) -> SystemTime {
        self.changed
    }

    /// The creation time (`stx_btime`).
    ///
    /// # Errors
    /// `Unsupported` when the file system does not record it.
    pub fn created(&self) -> io::Result<SystemTime> {
        self.created.ok_or_else(|| {
            io::Error::new(io::ErrorKind::Unsupported, "creation time is not available for this file system")
        })
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metadata")
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("len", &self.len)
            .field("ino", &self.ino)
            .field("modified", &self.modified)
            .finish_non_exhaustive()
    }
}
