//! Networking on the runtime's driver: TCP, UDP and Unix-domain sockets, and name lookup.
//!
//! Every socket is non-blocking, close-on-exec, and registered with the driver of the
//! runtime it was created in (`socket` below), so it is usable from any task of that
//! runtime; the types are `Send`.

mod socket;

// UDP and Unix-domain sockets.
mod ops;
mod udp;
pub mod unix;
pub use udp::UdpSocket;
