//! What a Windows child is given besides its command line: its environment block, and the
//! `__ARIA_FD_MAP` variable that tells it which inherited handles are its streams 3-5
//! (stddbg, stddati, stddato), since Windows has no descriptor numbers past the three
//! standard handles (seed 002 section 4).
//!
//! - **The environment block** ([`env_block`]): `NAME=value` strings in UTF-16, each ended by
//!   a NUL, the block ended by one more; sorted by name without regard to case, as
//!   `CreateProcessW` requires of a Unicode environment (`CREATE_UNICODE_ENVIRONMENT`). A
//!   name may not be empty, hold a NUL, or hold `=` past its first character (names such as
//!   `=C:`, which cmd.exe keeps per-drive directories in, start with one).
//! - **The descriptor map** ([`fd_map`], [`parse_fd_map`]): `3:<handle>;4:<handle>;5:<handle>`,
//!   each handle value in decimal, for the streams the child has; what reads it falls back
//!   to `NUL` for a stream the map does not name.
//!
//! Nothing here calls the system, so it is compiled and tested on every platform.
//!
//! # References
//! Microsoft Learn: "CreateProcessW function" (`lpEnvironment`), "Changing Environment
//! Variables"; seed 002 section 4 (`__ARIA_FD_MAP`).

use std::io;

/// The environment variable that carries the map of streams 3-5.
pub(crate) const FD_MAP_VAR: &str = "__ARIA_FD_MAP";

/// `c` upper-cased if it is an ASCII letter: the case folding of the sort.
fn fold(c: u16) -> u16 {
    if (u16::from(b'a')..=u16::from(b'z')).contains(&c) {
        c - 32
    } else {
        c
    }
}

/// A variable: (name, value), in UTF-16.
pub(crate) type Var = (Vec<u16>, Vec<u16>);

/// The environment block of `vars`, in UTF-16.
///
/// Names are compared without regard to case, by code unit after folding ASCII letters
/// (Windows folds more of Unicode; names outside ASCII are rare and keep their order among
/// themselves). When two names differ only in case, the later one wins, as when setting
/// the same variable twice.
///
/// # Errors
/// `InvalidInput` naming the variable: an empty name, a NUL in a name or value, or `=` in a
/// name past its first character.
pub(crate) fn env_block(vars: &[Var]) -> io::Result<Vec<u16>> {
    let invalid = |name: &[u16], why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("environment variable `{}`: {why}", String::from_utf16_lossy(name)),
        )
    };
    // (the name case-folded, the variable)
    let mut sorted: Vec<(Vec<u16>, &Var)> = Vec::with_capacity(vars.len());
    for var in vars {
        let (name, value) = var;
        if name.is_empty() {
            return Err(invalid(name, "the name is empty"));
        }
        if name.contains(&0) || value.contains(&0) {
            return Err(invalid(name, "contains a NUL character"));
        }
        if name[1..].contains(&u16::from(b'=')) {
            return Err(invalid(name, "the name contains `=`"));
        }
        sorted.push((name.iter().map(|&c| fold(c)).collect(), var));
    }
    // Stable: among names equal but for case, the given order stays, and the last is kept.
    sorted.sort_by(|(a, _), (b, _)| a.cmp(b));
    sorted.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 = later.1;
        }
        same
    });
    let sorted = sorted.into_iter().map(|(_, var)| var);
    let mut block = Vec::with_capacity(vars.iter().map(|(n, v)| n.len() + v.len() + 2).sum::<usize>() + 2);
    for (name, value) in sorted {
        block.extend_from_slice(name);
        block.push(u16::from(b'='));
        block.extend_from_slice(value);
        block.push(0);
    }
    // An empty block is two NULs; otherwise one more after the last string.
    if block.is_empty() {
        block.push(0);
    }
    block.push(0);
    Ok(block)
}

/// The value of [`FD_MAP_VAR`] for `streams`: (stream number, handle value) pairs, in the
/// order given.
pub(crate) fn fd_map(streams: &[(u32, usize)]) -> String {
    streams.iter().map(|(fd, handle)| format!("{fd}:{handle}")).collect::<Vec<_>>().join(";")
}

/// Reads a [`FD_MAP_VAR`] value back into (stream number, handle value) pairs.
///
/// # Errors
/// `InvalidData` naming the entry that is not `<3, 4 or 5>:<decimal handle>`, or a stream
/// given twice.
pub(crate) fn parse_fd_map(value: &str) -> io::Result<Vec<(u32, usize)>> {
    let mut out: Vec<(u32, usize)> = Vec::new();
    for entry in value.split(';').filter(|e| !e.is_empty()) {
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{FD_MAP_VAR}: `{entry}` is not <stream 3-5>:<decimal handle>"),
            )
        };
        let (fd, handle) = entry.split_once(':').ok_or_else(bad)?;
        let fd: u32 = fd.parse().map_err(|_| bad())?;
        let handle: usize = handle.parse().map_err(|_| bad())?;
        if !(3..=5).contains(&fd) {
            return Err(bad());
        }
        if out.iter().any(|(f, _)| *f == fd) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{FD_MAP_VAR}: stream {fd} is given twice"),
            ));
        }
        out.push((fd, handle));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn block(vars: &[(&str, &str)]) -> io::Result<String> {
        let vars: Vec<_> = vars.iter().map(|(n, v)| (w(n), w(v))).collect();
        env_block(&vars).map(|b| String::from_utf16(&b).unwrap())
    }

    #[test]
    fn the_block_is_sorted_without_regard_to_case_and_ends_with_two_nuls() {
        assert_eq!(
            block(&[("path", "C:\\bin"), ("Temp", "C:\\t"), ("=C:", "C:\\x"), ("ALLUSERSPROFILE", "p")])
                .unwrap(),
            "=C:=C:\\x\0ALLUSERSPROFILE=p\0path=C:\\bin\0Temp=C:\\t\0\0"
        );
        assert_eq!(block(&[]).unwrap(), "\0\0");
        assert_eq!(block(&[("EMPTY", "")]).unwrap(), "EMPTY=\0\0");
    }

    #[test]
    fn names_differing_only_in_case_are_one_variable_and_the_last_wins() {
        assert_eq!(block(&[("Path", "a"), ("X", "1"), ("PATH", "b")]).unwrap(), "PATH=b\0X=1\0\0");
    }

    #[test]
    fn impossible_names_and_values_are_refused_naming_the_variable() {
        for (name, value) in [("", "v"), ("A=B", "v"), ("NUL\0", "v"), ("OK", "nul\0")] {
            let err = block(&[(name, value)]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}={value:?}");
            assert!(err.to_string().contains("environment variable"), "{err}");
        }
    }

    #[test]
    fn the_descriptor_map_round_trips_and_bad_entries_are_named() {
        let map = fd_map(&[(3, 0x1a4), (4, 8), (5, 1234567)]);
        assert_eq!(map, "3:420;4:8;5:1234567");
        assert_eq!(parse_fd_map(&map).unwrap(), vec![(3, 420), (4, 8), (5, 1234567)]);
        assert_eq!(parse_fd_map("").unwrap(), vec![]);
        assert_eq!(parse_fd_map("4:12;").unwrap(), vec![(4, 12)]);
        for bad in ["3", "3:x", "x:3", "2:10", "6:10", "3:-1", "3:1;3:2"] {
            let err = parse_fd_map(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{bad}");
            assert!(err.to_string().contains(FD_MAP_VAR), "{err}");
        }
    }
}
