//! The history file: one JSON object a line, `{"time":…,"cwd":…,"status":…,"line":…}`.
//!
//! The file is `$ARIASH_HISTORY`, else `$XDG_DATA_HOME/ariash/history`, else
//! `~/.local/share/ariash/history`. Each entry is appended with one `write` on a file opened
//! with `O_APPEND`, so concurrent sessions never interleave inside an entry; before each
//! prompt a session reads what was appended since it last looked (its own entries and
//! others'), so sessions share history as soon as Enter is pressed. An entry starts and ends
//! with a newline: a line torn by a `kill -9` mid-write is ended by the next entry, and is
//! skipped on reading because it is not valid JSON.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// One session's view of the history file.
#[derive(Debug)]
pub(crate) struct HistoryFile {
    path: Option<PathBuf>,
    /// How far the file has been read.
    read: u64,
}

/// The history file's path, if one can be named.
fn path() -> Option<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = nonempty("ARIASH_HISTORY") {
        return Some(PathBuf::from(path));
    }
    let data = nonempty("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| nonempty("HOME").map(|home| PathBuf::from(home).join(".local/share")))?;
    Some(data.join("ariash").join("history"))
}

impl HistoryFile {
    /// The history file of this user (nothing is read yet).
    pub(crate) fn open() -> HistoryFile {
        HistoryFile { path: path(), read: 0 }
    }

    /// The lines appended since the last call, oldest first. Unreadable files and torn or
    /// foreign lines are skipped.
    pub(crate) fn new_lines(&mut self) -> Vec<String> {
        let Some(path) = &self.path else { return Vec::new() };
        let Ok(mut file) = File::open(path) else { return Vec::new() };
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.read)).is_err() || file.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        // Only whole lines: a line still being written is read next time.
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        self.read += whole as u64;
        let text = String::from_utf8_lossy(bytes.get(..whole).unwrap_or_default()).into_owned();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("line").and_then(|l| l.as_str()).map(str::to_string))
            .collect()
    }

    /// Appends an entry for `line`, run in the current directory with `status`. Failures are
    /// ignored: history is a convenience.
    pub(crate) fn append(&self, line: &str, status: i32) {
        let Some(path) = &self.path else { return };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let time =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let cwd = std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
        let entry = serde_json::json!({ "time": time, "cwd": cwd, "status": status, "line": line });
        let record = format!("\n{entry}\n");
        let Ok(mut file) = OpenOptions::new().append(true).create(true).open(path) else { return };
        // One write: O_APPEND makes it land whole at the end.
        let _ = file.write(record.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::HistoryFile;

    #[test]
    fn a_torn_last_line_is_skipped_and_later_entries_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history");
        std::fs::write(&path, "\n{\"line\":\"one\"}\n\n{\"line\":\"tw").expect("write");
        let mut h = HistoryFile { path: Some(path), read: 0 };
        assert_eq!(h.new_lines(), vec!["one".to_string()]);
        h.append("three", 0);
        assert_eq!(h.new_lines(), vec!["three".to_string()]);
    }
}
