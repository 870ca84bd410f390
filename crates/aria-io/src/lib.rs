//! aria-io
