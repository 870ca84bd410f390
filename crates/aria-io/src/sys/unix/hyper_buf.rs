//! Reading into hyper's uninitialised read buffer (`hyper::rt::ReadBufCursor`) from a
//! reader that takes `&mut [u8]`: the one piece of `aria_io::hyper` that needs `unsafe`.

use std::io;
use std::mem::MaybeUninit;
use std::task::Poll;

/// The most of the cursor's unfilled space one read may use. hyper's adaptive read buffer
/// grows past this; bounding the part that is zeroed first keeps a short read cheap.
const MAX_READ: usize = 64 * 1024;

/// Zeroes up to [`MAX_READ`] bytes of the cursor's unfilled space, lends them to `read` as
/// `&mut [u8]`, and advances the cursor by the count `read` reports (clamped to the slice).
///
/// The data is read straight into hyper's buffer: the bytes are copied once, by the
/// kernel's read(2)/recv(2), as with tokio's uninitialised `ReadBuf`; zeroing costs one
/// write pass over at most 64 KiB, which is what `&mut [u8]` (futures-io's `AsyncRead`)
/// requires of uninitialised memory.
pub(crate) fn read_into(
    cursor: &mut ::hyper::rt::ReadBufCursor<'_>,
    read: impl FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    // SAFETY: `as_mut` hands out the unfilled part of the buffer, which may be
    // uninitialised; nothing here reads it before writing it, and no byte is de-initialised
    // (hyper's requirement for `as_mut`).
    let unfilled = unsafe { cursor.as_mut() };
    let len = unfilled.len().min(MAX_READ);
    let unfilled = &mut unfilled[..len];
    let ptr = unfilled.as_mut_ptr().cast::<u8>();
    // SAFETY: `ptr` points to `len` writable bytes of the cursor's buffer, borrowed mutably
    // through `unfilled` for the rest of this function.
    unsafe { std::ptr::write_bytes(ptr, 0, len) };
    // SAFETY: the `len` bytes were just initialised (zeroed), are exclusively borrowed, and
    // `u8` has the layout of `MaybeUninit<u8>`.
    let init = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
    let n = std::task::ready!(read(init))?.min(len);
    // SAFETY: the first `n <= len` bytes of the unfilled part are initialised (zeroed, then
    // written by `read`).
    unsafe { cursor.advance(n) };
    Poll::Ready(Ok(()))
}

/// Lends the cursor's unfilled space, uninitialised, to `read`, which must only write it
/// (recv(2) into its pointer) and return how many bytes it wrote; advances the cursor by
/// that count (clamped to the space). No byte is zeroed or copied by this process: the
/// kernel writes straight into hyper's buffer.
pub(crate) fn read_uninit(
    cursor: &mut ::hyper::rt::ReadBufCursor<'_>,
    read: impl FnOnce(&mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    // SAFETY: `as_mut` hands out the unfilled part of the buffer, which may be
    // uninitialised; `read` only writes it (its contract above) and de-initialises nothing.
    let unfilled = unsafe { cursor.as_mut() };
    let len = unfilled.len();
    let n = std::task::ready!(read(unfilled))?.min(len);
    // SAFETY: `read` wrote its first `n <= len` bytes (the count recv(2) returned), so they
    // are initialised.
    unsafe { cursor.advance(n) };
    Poll::Ready(Ok(()))
}
