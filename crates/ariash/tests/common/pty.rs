//! A pseudo-terminal harness for the REPL tests: ariash runs on a pty whose output feeds a
//! vt100 screen; tests type keys and wait until the screen shows a text.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tempfile::TempDir;

use super::HANG_GUARD;

/// A working directory and a `HOME` for one REPL session.
pub fn dirs() -> (TempDir, TempDir) {
    (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"))
}

/// Starts the REPL in `dir` with `home` and waits for its first prompt.
pub fn start(dir: &TempDir, home: &TempDir) -> Pty {
    let pty = Pty::spawn(dir.path(), home.path(), &[]);
    pty.wait_for("> ");
    pty
}

/// The prompt's start: the cwd.
pub fn p(dir: &TempDir) -> String {
    dir.path().to_string_lossy().into_owned()
}

/// ariash running on a pseudo-terminal, which is its controlling terminal (ariash leads a
/// new session), as a terminal emulator starts a shell.
pub struct Pty {
    writer: Arc<Mutex<File>>,
    screen: Arc<Mutex<vt100::Parser>>,
    /// Everything ariash wrote, for counting what scrolled off the screen.
    transcript: Arc<Mutex<String>>,
    child: Child,
}

fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let mut size = libc::winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty writes two new descriptors; the name and termios are optional (the
    // pointers are `*mut` on the BSDs, `*const` on Linux: `*mut` fits both).
    let rc = unsafe {
        libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null_mut(), &raw mut size)
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

impl Pty {
    /// Starts `ariash args` in `dir` on a new pty, with `HOME` and the history file in `home`.
    pub fn spawn(dir: &Path, home: &Path, args: &[&str]) -> Pty {
        let (master, slave) = openpty();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ariash"));
        cmd.args(args)
            .current_dir(dir)
            .env("HOME", home)
            .env("ARIASH_HISTORY", home.join("history"))
            .env("TERM", "xterm")
            .env("ARIASH_KILL_GRACE_MS", "300")
            .env_remove("ARIASH_EDIT_MODE")
            .env_remove("NO_COLOR")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe; they make the pty (stdin) the new
        // session's controlling terminal.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn ariash");
        let writer = Arc::new(Mutex::new(File::from(master.try_clone().expect("dup master"))));
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(30).expect("rows"),
            std::num::NonZeroU16::new(100).expect("cols"),
            0,
        )));
        let transcript = Arc::new(Mutex::new(String::new()));
        let (screen2, writer2, transcript2) =
            (Arc::clone(&screen), Arc::clone(&writer), Arc::clone(&transcript));
        let mut reader = File::from(master);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                transcript2.lock().expect("transcript").push_str(&String::from_utf8_lossy(chunk));
                let mut parser = screen2.lock().expect("screen");
                parser.process(chunk);
                // Answer cursor-position queries, as a terminal would.
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = parser.screen().cursor_position();
                    let answer = format!("\x1b[{};{}R", row + 1, col + 1);
                    let _ = writer2.lock().expect("writer").write_all(answer.as_bytes());
                }
            }
        });
        Pty { writer, screen, transcript, child }
    }

    /// ariash's process id (its process group and session too).
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid")
    }

    /// Sends `signo` to ariash.
    pub fn signal(&self, signo: i32) {
        // SAFETY: kill takes plain integers; the child is not reaped before `self` drops.
        assert_eq!(unsafe { libc::kill(self.pid(), signo) }, 0, "kill");
    }

    /// Everything ariash wrote so far (escape sequences included).
    pub fn transcript(&self) -> String {
        self.transcript.lock().expect("transcript").clone()
    }

    /// Waits until `text` occurs `count` times in the transcript.
    pub fn wait_for_count(&self, text: &str, count: usize) {
        let start = Instant::now();
        while self.transcript().matches(text).count() < count {
            assert!(
                start.elapsed() < HANG_GUARD,
                "{text:?} never showed {count} times:\n{}",
                self.contents()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Types `keys`.
    pub fn send(&self, keys: &str) {
        self.writer.lock().expect("writer").write_all(keys.as_bytes()).expect("write to the pty");
    }

    /// The screen's text now.
    pub fn contents(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    /// Waits until the screen shows `text` (the hang guard is the deadline).
    pub fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while !self.contents().contains(text) {
            assert!(start.elapsed() < HANG_GUARD, "the screen never showed {text:?}:\n{}", self.contents());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// How many lines of the screen start with `prefix` (the prompt starts with the cwd).
    pub fn count_lines(&self, prefix: &str) -> usize {
        self.contents().lines().filter(|l| l.starts_with(prefix)).count()
    }

    /// Types `line` and Enter once the prompt (which starts with `prompt`) is showing, and
    /// waits for the next prompt.
    pub fn line(&self, prompt: &str, line: &str) {
        self.keys(prompt, &format!("{line}\r"));
    }

    /// Types `keys` and waits for a new prompt (which starts with `prompt`).
    pub fn keys(&self, prompt: &str, keys: &str) {
        let before = self.count_lines(prompt);
        self.send(keys);
        self.wait_prompts(prompt, before + 1);
    }

    /// Waits until `count` lines of the screen start with `prompt`.
    pub fn wait_prompts(&self, prompt: &str, count: usize) {
        let start = Instant::now();
        while self.count_lines(prompt) < count {
            assert!(start.elapsed() < HANG_GUARD, "no prompt number {count}:\n{}", self.contents());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits for ariash to exit and returns its status.
    pub fn wait_exit(mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > HANG_GUARD {
                let _ = self.child.kill();
                panic!("ariash did not exit:\n{}", self.contents());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    /// Hangs up as a closing terminal would (ariash then hangs up its jobs), and kills
    /// ariash if it is still there after a moment.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SAFETY: kill takes plain integers; the child is not reaped yet.
            unsafe { libc::kill(self.pid(), libc::SIGHUP) };
            let start = Instant::now();
            while matches!(self.child.try_wait(), Ok(None))
                && start.elapsed() < std::time::Duration::from_secs(2)
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
