use std::io;
use std::path::Path;

use super::ops::OpenOp;
use super::shared::FileShared;
use super::{c_path, with_path, File};
use crate::driver::op::Op;

/// The permission bits a created file gets by default, before the umask.
const DEFAULT_MODE: u32 = 0o644;

/// How to open a file: access mode, creation and truncation, permissions of a new file.
///
/// Mirrors [`std::fs::OpenOptions`]: every option starts `false`, and the same combinations
/// are refused. The one difference is the default [`mode`](OpenOptions::mode) of a created
/// file, `0o644` (before the umask) rather than `0o666`.
///
/// ```
/// # aria_io::Runtime::new()?.block_on(async {
/// use aria_io::fs::OpenOptions;
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("log.txt");
/// let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
/// let (res, _) = log.write_all_owned(b"started\n".to_vec()).await;
/// res?;
/// # Ok::<_, std::io::Error>(())
/// # })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// # References
/// open(2), io_uring_prep_openat(3)
#[derive(Debug, Clone)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Options with everything off and mode `0o644`: set at least one of `read`, `write` or
    /// `append` before opening.
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: DEFAULT_MODE,
        }
    }

    /// Opens for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.read = read;
        self
    }

    /// Opens for writing (at the file position, which starts at 0).
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.write = write;
        self
    }

    /// Opens for writing with every write going to the end of the file (`O_APPEND`), even
    /// if several processes append at once. Implies `write`.
    ///
    /// # Platform
    /// Linux ignores the offset of [`File::write_at`] on a file opened this way: the data
    /// goes to the end (a documented pwrite(2) bug).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.append = append;
        self
    }

    /// Truncates an existing file to length 0 (`O_TRUNC`). Requires `write`.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.truncate = truncate;
        self
    }

    /// Creates the file if it does not exist (`O_CREAT`). Requires `write` or `append`.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.create = create;
        self
    }

    /// Creates the file, failing with `AlreadyExists` if it exists, even as a dangling
    /// symbolic link (`O_CREAT | O_EXCL`: atomic). Overrides `create` and `truncate`.
    /// Requires `write` or `append`.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.create_new = create_new;
        self
    }

    /// The permission bits of a file this call creates, before the process's umask clears
    /// some of them (default `0o644`). No effect on an existing file.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    /// The open(2) error (`NotFound`, `PermissionDenied`, `AlreadyExists` for
    /// `create_new`...), its message naming the path: ``cannot open `/x/y`: No such file or
    /// directory (os error 2)``; the [kind](io::Error::kind) is kept and the OS error is the
    /// [source](std::error::Error::source). `InvalidInput` for a combination of options that
    /// `std` refuses (no access mode; `truncate`, `create` or `create_new` without write
    /// access; `truncate` with `append`) and for a path containing a NUL byte.
    ///
    /// # Platform
    /// io_uring: `IORING_OP_OPENAT`. epoll (and outside a runtime): openat(2) on the
    /// [blocking pool](crate::blocking).
    ///
    /// # References
    /// open(2), io_uring_prep_openat(3)
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref();
        let opened = self.open_path(path).await;
        opened.map_err(|e| with_path(e, "open", path))
    }

    async fn open_path(&self, path: &Path) -> io::Result<File> {
        let flags = self.flags()?;
        let op = OpenOp { path: c_path(path)?, flags, mode: self.mode };
        // Dropped in flight, the open is cancelled; a descriptor the kernel opened anyway is
        // closed by the operation's cancel hook inside the driver (see `OpenOp`).
        let (res, _) = Op::new(op).await;
        Ok(File::from_shared(FileShared::new(res?, path.to_owned())))
    }

    /// The open(2) flags, validated as `std` does.
    fn flags(&self) -> io::Result<libc::c_int> {
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return Err(invalid("no access mode: set read, write or append")),
        };
        let creation = match (self.write || self.append, self.truncate, self.create, self.create_new) {
            (false, true, _, _) | (false, _, true, _) | (false, _, _, true) => {
                return Err(invalid("truncate, create and create_new need write or append access"))
            }
            (_, true, _, false) if self.append => {
                return Err(invalid("truncate and append cannot be combined"))
            }
            (_, _, _, true) => libc::O_CREAT | libc::O_EXCL,
            (_, true, true, false) => libc::O_CREAT | libc::O_TRUNC,
            (_, true, false, false) => libc::O_TRUNC,
            (_, false, true, false) => libc::O_CREAT,
            (_, false, false, false) => 0,
        };
        Ok(access | creation)
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}
