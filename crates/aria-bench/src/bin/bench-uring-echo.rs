//! An experiment, not a runtime: the echo server written directly on one io_uring, to
//! measure what a multishot receive into a provided-buffer ring (Linux 6.0) gains over one
//! `IORING_OP_RECV` per read (what aria-io's `read_owned` submits) before building it into
//! the driver (issue #11: "keep it only if it wins").
//!
//! ```text
//! bench-uring-echo --mode oneshot|multishot --addr IP:PORT [--cpu C]
//! ```
//!
//! Pins itself to CPU `C` (default 0), listens on `addr`, accepts with a multishot
//! `IORING_OP_ACCEPT`, and echoes every connection until it ends:
//!
//! - `oneshot`: `RECV` into the connection's 4 KiB buffer, `SEND` of what came, `RECV` again.
//! - `multishot`: one `RECV` with `IORING_RECV_MULTISHOT` and `IOSQE_BUFFER_SELECT` per
//!   connection, the kernel picking 4 KiB buffers from a ring of 4096
//!   (`IORING_REGISTER_PBUF_RING`); each completion's bytes are copied to the connection's
//!   send buffer and the buffer goes back to the ring at once; a `SEND` is in flight per
//!   connection at most, with what arrives meanwhile sent next.
//!
//! Both use one `io_uring_enter` per loop (submit and wait for one completion), no
//! task-run flags, TCP_NODELAY on accepted sockets. Load it with `bench-echo-client` and
//! read its CPU with `ps`/`/proc/PID/stat`; it serves until killed.
//!
//! Result (2026-12-05, 2 vCPU EPYC, kernel 6.18, server on CPU 0 and the client on CPU 1,
//! 1.5 s windows, 3 rounds alternating the modes; medians): 100 B x 16 connections,
//! oneshot 166,802 requests/s, multishot 140,669 (0.84x); 1 KiB x 64, 180,123 vs 160,558
//! (0.89x); at a fixed 80,000 requests/s the server used the same CPU (84 vs 82 ticks per
//! run). The multishot receive does not win here, so the driver keeps one `IORING_OP_RECV`
//! per `read_owned`.
// The suite runs on Linux only (see Cargo.toml): elsewhere this binary is empty.
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::{cqueue, opcode, types, IoUring};

const BUF: usize = 4096;
const RING_BUFS: u16 = 4096;
const BGID: u16 = 7;
const ACCEPT: u64 = u64::MAX;
const RECV: u64 = 0;
const SEND: u64 = 1;

struct Conn {
    fd: RawFd,
    /// oneshot: the receive buffer, then the bytes being sent. multishot: the bytes being sent.
    buf: Vec<u8>,
    /// multishot: bytes that arrived while a send was in flight.
    pending: Vec<u8>,
    sent: usize,
    sending: bool,
    /// The peer ended the connection while a send was in flight: close after it.
    closing: bool,
}

/// The provided-buffer ring: 4096 entries of 16 bytes (page-aligned, shared with the
/// kernel) and the 4096 buffers they point to.
struct BufRing {
    entries: *mut types::BufRingEntry,
    memory: Vec<u8>,
    tail: u16,
}

impl BufRing {
    fn new(ring: &IoUring) -> io::Result<BufRing> {
        let len = usize::from(RING_BUFS) * std::mem::size_of::<types::BufRingEntry>();
        // SAFETY: an anonymous private mapping; checked for MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut br = BufRing { entries: ptr.cast(), memory: vec![0; usize::from(RING_BUFS) * BUF], tail: 0 };
        // SAFETY: the mapping is page-aligned, `RING_BUFS` entries long, and lives (leaked)
        // as long as the process, so the kernel never sees it freed.
        unsafe { ring.submitter().register_buf_ring_with_flags(ptr as u64, RING_BUFS, BGID, 0)? };
        for bid in 0..RING_BUFS {
            br.push(bid);
        }
        br.publish();
        Ok(br)
    }

    /// Puts buffer `bid` at the tail (published by `publish`).
    fn push(&mut self, bid: u16) {
        let index = usize::from(self.tail & (RING_BUFS - 1));
        // SAFETY: `index` is within the mapping's `RING_BUFS` entries; the kernel reads only
        // entries before the published tail, and this one is after it.
        let entry = unsafe { &mut *self.entries.add(index) };
        let start = usize::from(bid) * BUF;
        entry.set_addr(self.memory[start..].as_mut_ptr() as u64);
        entry.set_len(BUF as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the pushed buffers visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail field lies inside the first entry of the mapping, and is only
        // written here (the kernel reads it).
        let tail = unsafe { &*types::BufRingEntry::tail(self.entries).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
    }

    fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * BUF;
        &self.memory[start..start + len]
    }
}

fn main() -> io::Result<()> {
    let mut mode = String::from("oneshot");
    let mut addr = String::from("127.0.0.1:7100");
    let mut cpu = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| io::Error::other(format!("{a} needs a value")));
        match a.as_str() {
            "--mode" => mode = value()?,
            "--addr" => addr = value()?,
            "--cpu" => cpu = value()?.parse().map_err(io::Error::other)?,
            other => return Err(io::Error::other(format!("unknown argument {other}"))),
        }
    }
    let multishot = match mode.as_str() {
        "oneshot" => false,
        "multishot" => true,
        m => return Err(io::Error::other(format!("--mode {m}: oneshot or multishot"))),
    };
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        return Err(io::Error::other(format!("cannot pin to CPU {cpu}")));
    }
    let listener = TcpListener::bind(&addr)?;
    let mut ring = IoUring::new(1024)?;
    let mut bufs = if multishot { Some(BufRing::new(&ring)?) } else { None };
    let mut conns: HashMap<u64, Conn> = HashMap::new();
    let mut next_id = 0u64;
    let accept = opcode::AcceptMulti::new(types::Fd(listener.as_raw_fd())).build().user_data(ACCEPT);
    // SAFETY: the entry points to no memory.
    unsafe { ring.submission().push(&accept).map_err(io::Error::other)? };
    println!("listening on {addr} ({mode})");

    loop {
        ring.submit_and_wait(1)?;
        let cqes: Vec<cqueue::Entry> = ring.completion().collect();
        let mut recycled = false;
        for cqe in cqes {
            let (ud, res, flags) = (cqe.user_data(), cqe.result(), cqe.flags());
            if ud == ACCEPT {
                if res >= 0 {
                    let fd = res;
                    let one: libc::c_int = 1;
                    // SAFETY: a valid option value for TCP_NODELAY on a socket we own.
                    unsafe {
                        libc::setsockopt(
                            fd,
                            libc::IPPROTO_TCP,
                            libc::TCP_NODELAY,
                            (&one as *const libc::c_int).cast(),
                            4,
                        )
                    };
                    let id = next_id;
                    next_id += 1;
                    let conn = conns.entry(id).or_insert(Conn {
                        fd,
                        buf: Vec::with_capacity(BUF),
                        pending: Vec::new(),
                        sent: 0,
                        sending: false,
                        closing: false,
                    });
                    submit_recv(&mut ring, id, conn, multishot)?;
                }
                if !cqueue::more(flags) {
                    // SAFETY: the entry points to no memory.
                    unsafe { ring.submission().push(&accept).map_err(io::Error::other)? };
                }
                continue;
            }
            let id = ud >> 1;
            let Some(conn) = conns.get_mut(&id) else { continue };
            if ud & 1 == RECV {
                if multishot {
                    let br = bufs.as_mut().expect("multishot has a buffer ring");
                    if let Some(bid) = cqueue::buffer_select(flags) {
                        if res > 0 {
                            let data = br.bytes(bid, res as usize);
                            if conn.sending {
                                conn.pending.extend_from_slice(data);
                            } else {
                                conn.buf.clear();
                                conn.buf.extend_from_slice(data);
                            }
                        }
                        br.push(bid);
                        recycled = true;
                    }
                    if res <= 0 && res != -libc::ENOBUFS {
                        if conn.sending {
                            conn.closing = true;
                        } else {
                            close(&mut conns, id);
                        }
                        continue;
                    }
                    if !conn.sending && !conn.buf.is_empty() {
                        conn.sent = 0;
                        submit_send(&mut ring, id, conn)?;
                    }
                    if !cqueue::more(flags) {
                        submit_recv(&mut ring, id, conn, true)?;
                    }
                } else {
                    if res <= 0 {
                        close(&mut conns, id);
                        continue;
                    }
                    // SAFETY: the kernel wrote `res` bytes into the spare capacity.
                    unsafe { conn.buf.set_len(res as usize) };
                    conn.sent = 0;
                    submit_send(&mut ring, id, conn)?;
                }
            } else {
                conn.sending = false;
                if res < 0 || conn.closing {
                    close(&mut conns, id);
                    continue;
                }
                conn.sent += res as usize;
                if conn.sent < conn.buf.len() {
                    submit_send(&mut ring, id, conn)?;
                } else if multishot {
                    if !conn.pending.is_empty() {
                        std::mem::swap(&mut conn.buf, &mut conn.pending);
                        conn.pending.clear();
                        conn.sent = 0;
                        submit_send(&mut ring, id, conn)?;
                    } else {
                        conn.buf.clear();
                    }
                } else {
                    conn.buf.clear();
                    submit_recv(&mut ring, id, conn, false)?;
                }
            }
        }
        if recycled {
            bufs.as_ref().expect("recycled into the ring").publish();
        }
    }
}

fn submit_recv(ring: &mut IoUring, id: u64, conn: &mut Conn, multishot: bool) -> io::Result<()> {
    let entry = if multishot {
        opcode::RecvMulti::new(types::Fd(conn.fd), BGID).build()
    } else {
        opcode::Recv::new(types::Fd(conn.fd), conn.buf.as_mut_ptr(), BUF as u32).build()
    };
    // SAFETY: the oneshot buffer is the connection's, which lives (unmoved: a Vec's heap
    // memory) until the completion; multishot entries point to the registered ring.
    unsafe { push(ring, &entry.user_data(id << 1 | RECV)) }
}

fn submit_send(ring: &mut IoUring, id: u64, conn: &mut Conn) -> io::Result<()> {
    let data = &conn.buf[conn.sent..];
    let entry = opcode::Send::new(types::Fd(conn.fd), data.as_ptr(), data.len() as u32).build();
    conn.sending = true;
    // SAFETY: the bytes are the connection's buffer, untouched until the completion.
    unsafe { push(ring, &entry.user_data(id << 1 | SEND)) }
}

/// Pushes an entry, submitting to make room when the submission ring is full.
///
/// # Safety
/// As `SubmissionQueue::push`: the entry's memory must outlive the request.
unsafe fn push(ring: &mut IoUring, entry: &io_uring::squeue::Entry) -> io::Result<()> {
    loop {
        // SAFETY: forwarded to the caller.
        if unsafe { ring.submission().push(entry) }.is_ok() {
            return Ok(());
        }
        ring.submit()?;
    }
}

fn close(conns: &mut HashMap<u64, Conn>, id: u64) {
    if let Some(conn) = conns.remove(&id) {
        // SAFETY: the connection's descriptor, closed once. (A request still in flight on
        // it completes with an error; its user data then finds no connection.)
        unsafe { libc::close(conn.fd) };
    }
}
