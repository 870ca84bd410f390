//! The spawn paths: what `spawn` (waits for the child's execve) and `status`/`output` (do
//! not) report, credentials, `argv[0]`, signal state in the child, and the `Command` getters.
//! CI runs this file again with `ARIA_IO_SPAWN=posix_spawn` (the fallback path).

mod support;

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;

use aria_io::os::unix::CommandExt;
use aria_io::process::{Command, SpawnError, Stdio};
use support::{helper, run};

/// An executable file the kernel cannot run (no ELF header, no `#!`): execve fails with
/// ENOEXEC, after PATH lookup and the permission check have passed.
fn not_an_executable(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("garbage");
    std::fs::write(&file, [0u8, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    file
}

#[test]
fn an_exec_failure_is_reported_by_spawn_status_and_output_naming_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let file = not_an_executable(dir.path());
    run(async {
        let err = Command::new(&file).spawn().unwrap_err();
        assert_eq!(err.raw_os_error(), None, "wrapped in a SpawnError: {err}");
        let inner = SpawnError::from_io(&err).expect("a SpawnError");
        assert_eq!(inner.program(), file.as_os_str());
        assert!(err.to_string().contains("garbage"), "{err}");
        assert_eq!(
            std::error::Error::source(inner)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .and_then(|e| e.raw_os_error()),
            Some(libc::ENOEXEC)
        );

        // status() and output() do not wait for the execve on the thread, but report the
        // same error from their future.
        let err = Command::new(&file).status().await.unwrap_err();
        assert!(SpawnError::from_io(&err).is_some(), "{err}");
        assert!(err.to_string().contains("garbage"), "{err}");
        let err = Command::new(&file).output().await.unwrap_err();
        assert!(SpawnError::from_io(&err).is_some(), "{err}");
    });
}

#[test]
fn status_and_output_run_many_children_concurrently() {
    run(async {
        let mut tasks = Vec::new();
        for i in 0..64u32 {
            tasks.push(aria_io::spawn(async move {
                let out = helper(&["argv", &i.to_string()]).output().await.unwrap();
                assert!(out.status.success());
                assert_eq!(out.stdout, format!("{i}\0").into_bytes());
                helper(&["exit", &(i % 7).to_string()]).status().await.unwrap().code()
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), Some(i as i32 % 7));
        }
    });
}

#[test]
fn arg0_is_what_the_program_sees_as_its_name() {
    run(async {
        let mut c = Command::new("sh");
        c.arg0("custom-name").args(["-c", "echo $0"]);
        let out = c.output().await.unwrap();
        assert_eq!(out.stdout, b"custom-name\n");
        assert_eq!(c.get_program(), "sh");
    });
}

#[test]
fn uid_gid_and_groups_are_set_in_the_child_or_refused_with_the_step_named() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    run(async {
        let mut c = Command::new("id");
        c.uid(65534).gid(65534).groups(&[65534]);
        let posix = std::env::var("ARIA_IO_SPAWN").as_deref() == Ok("posix_spawn");
        match c.output().await {
            Ok(out) => {
                assert!(root && !posix, "only root on the clone3 path can do this");
                let text = String::from_utf8(out.stdout).unwrap();
                assert!(text.starts_with("uid=65534"), "{text}");
                assert!(text.contains("gid=65534"), "{text}");
                assert!(!text.contains("groups=0"), "{text}");
            }
            Err(e) if posix => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
            Err(e) => {
                assert!(!root, "root may change ids: {e}");
                assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
                assert!(e.to_string().contains("setgroups"), "{e}");
            }
        }
    });
}

#[test]
fn the_child_starts_with_an_empty_signal_mask_and_sigpipe_at_its_default() {
    run(async {
        // /proc/<pid>/status of the child itself: SigBlk (blocked) and SigIgn (ignored).
        let out = Command::new("sh")
            .args(["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"])
            .output()
            .await
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let field = |name: &str| {
            let line = text.lines().find(|l| l.starts_with(name)).unwrap();
            u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
        };
        // grep's own mask is the shell's, which is what it was given.
        assert_eq!(field("SigBlk:"), 0, "{text}");
        assert_eq!(field("SigIgn:") & (1 << (libc::SIGPIPE - 1)), 0, "SIGPIPE ignored: {text}");
    });
}

#[test]
fn the_getters_give_back_what_was_set() {
    let mut c = Command::new("prog");
    c.args(["a", "b"]).env("K", "V").env_remove("GONE").envs([("X", "1"), ("Y", "2")]).current_dir("/tmp");
    assert_eq!(c.get_program(), "prog");
    assert_eq!(c.get_args().collect::<Vec<_>>(), ["a", "b"]);
    let envs: Vec<_> =
        c.get_envs().map(|(k, v)| (k.to_str().unwrap(), v.map(|v| v.to_str().unwrap()))).collect();
    assert_eq!(envs, [("GONE", None), ("K", Some("V")), ("X", Some("1")), ("Y", Some("2"))]);
    assert_eq!(c.get_current_dir(), Some(std::path::Path::new("/tmp")));
}

#[test]
fn a_std_command_converts_with_its_program_arguments_environment_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut std_cmd = std::process::Command::new("sh");
    std_cmd.args(["-c", "echo \"$ARIA_X\"; pwd"]).env("ARIA_X", "from-std").current_dir(dir.path());
    let mut c = Command::from(std_cmd);
    run(async {
        let out = c.stdout(Stdio::piped()).output().await.unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("from-std"));
        let pwd = std::path::PathBuf::from(lines.next().unwrap());
        assert_eq!(pwd.canonicalize().unwrap(), dir.path().canonicalize().unwrap());
    });
}
