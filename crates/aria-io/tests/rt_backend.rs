//! Backend selection: the builder option, the `ARIA_IO_BACKEND` variable, clear errors.

mod support;

use aria_io::{BackendKind, Builder};
use support::{helper, run};

fn io_uring_available() -> bool {
    Builder::new_current_thread().backend(BackendKind::IoUring).build().is_ok()
}

#[test]
fn the_builder_forces_a_backend() {
    let rt = Builder::new_current_thread().backend(BackendKind::Epoll).build().unwrap();
    assert_eq!(rt.backend(), BackendKind::Epoll);
    if io_uring_available() {
        let rt = Builder::new_current_thread().backend(BackendKind::IoUring).build().unwrap();
        assert_eq!(rt.backend(), BackendKind::IoUring);
        // And it runs processes, timers and pipes.
        let out = rt.block_on(async {
            aria_io::time::sleep(std::time::Duration::from_millis(2)).await;
            aria_io::process::Command::new("echo").arg("uring").output().await
        });
        assert_eq!(out.unwrap().stdout, b"uring\n");
    }
}

#[test]
fn the_environment_variable_forces_a_backend_and_bad_values_are_clear_errors() {
    run(async {
        let pick = |value: &'static str| {
            let mut c = helper(&["backend"]);
            c.env("ARIA_IO_BACKEND", value);
            async move {
                let out = c.output().await.unwrap();
                (out.status.code(), String::from_utf8(out.stdout).unwrap().trim().to_string())
            }
        };
        assert_eq!(pick("epoll").await, (Some(0), "epoll".to_string()));
        if io_uring_available() {
            assert_eq!(pick("uring").await, (Some(0), "io_uring".to_string()));
        } else {
            let (code, msg) = pick("uring").await;
            assert_eq!(code, Some(2));
            assert!(msg.contains("io_uring"), "{msg}");
        }
        let (code, msg) = pick("poll").await;
        assert_eq!(code, Some(2));
        assert!(msg.contains("poll") && msg.contains("not implemented"), "{msg}");
        let (code, msg) = pick("kqueue").await;
        assert_eq!(code, Some(2));
        assert!(msg.contains("ARIA_IO_BACKEND=kqueue"), "{msg}");
    });
}
