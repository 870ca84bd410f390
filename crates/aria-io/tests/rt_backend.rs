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
    let rt = Builder::new_current_thread().backend(BackendKind::Poll).build().unwrap();
    assert_eq!(rt.backend(), BackendKind::Poll);
    // And it runs processes, timers and pipes.
    let out = rt.block_on(async {
        aria_io::time::sleep(std::time::Duration::from_millis(2)).await;
        aria_io::process::Command::new("echo").arg("poll").output().await
    });
    assert_eq!(out.unwrap().stdout, b"poll\n");
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
        assert_eq!(pick("poll").await, (Some(0), "poll".to_string()));
        // A backend of another platform is named as such...
        let (code, msg) = pick("kqueue").await;
        assert_eq!(code, Some(2));
        assert!(msg.contains("kqueue") && msg.contains("not available on this platform"), "{msg}");
        // ...and a name that is no backend is quoted with the ones that are.
        let (code, msg) = pick("epol").await;
        assert_eq!(code, Some(2));
        assert!(msg.contains("ARIA_IO_BACKEND=epol") && msg.contains("expected epoll"), "{msg}");
    });
}

#[test]
fn without_a_choice_the_runtime_picks_io_uring_where_the_kernel_allows_it() {
    run(async {
        let mut c = helper(&["backend"]);
        c.env_remove("ARIA_IO_BACKEND");
        let out = c.output().await.unwrap();
        let expected = if io_uring_available() { "io_uring" } else { "epoll" };
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), expected);
    });
}

#[test]
fn without_a_choice_the_multi_thread_runtime_picks_epoll() {
    run(async {
        let mut c = helper(&["backend-multi-thread"]);
        c.env_remove("ARIA_IO_BACKEND");
        let out = c.output().await.unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "epoll");
    });
}

#[test]
fn a_current_thread_runtime_on_io_uring_can_block_on_from_one_thread_then_another() {
    if !io_uring_available() {
        return;
    }
    let rt = Builder::new_current_thread().backend(BackendKind::IoUring).build().unwrap();
    let sleep = || aria_io::time::sleep(std::time::Duration::from_millis(1));
    rt.block_on(sleep());
    let rt = std::thread::spawn(move || {
        let out = rt.block_on(async {
            sleep().await;
            aria_io::process::Command::new("echo").arg("moved").output().await
        });
        assert_eq!(out.unwrap().stdout, b"moved\n");
        rt
    })
    .join()
    .unwrap();
    rt.block_on(sleep());
}
