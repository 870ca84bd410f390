//! Failed spawns leak no descriptor. A test binary of its own: other tests running in
//! parallel threads would open and close descriptors while this one counts them.

mod support;

use aria_io::process::{Command, Pipeline, Redirect, Stdio};
use support::{helper, run};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn failed_spawns_leak_no_descriptor() {
    run(async {
        // Warm up: the runtime's own descriptors and the shared /dev/null exist from here on.
        helper(&["exit", "0"]).status().await.unwrap();
        let before = open_fds();
        for _ in 0..20 {
            let mut c = Command::new("no-such-program-aria");
            for fd in 0..6 {
                c.stdio(fd, Stdio::piped());
            }
            assert!(c.spawn().is_err());
            let mut c = helper(&["exit", "0"]);
            c.stdout(Stdio::piped()).current_dir("/no/such/dir");
            assert!(c.spawn().is_err());
            let p = Pipeline::new(helper(&["emit", "1", "10"]))
                .pipe(helper(&["cat"]))
                .pipe(Command::new("no-such-program-aria"))
                .redirect(Redirect::Write { fd: 3, path: "/dev/null".into(), append: false });
            assert!(p.spawn().is_err());
            let p = Pipeline::new(helper(&["cat"]))
                .redirect(Redirect::Read { fd: 0, path: "/no/such/file".into() });
            assert!(p.spawn().is_err());
        }
        // Stages started before a failing one are reaped in the background; wait for their
        // pidfds to be closed, which the hang guard bounds.
        while open_fds() > before {
            aria_io::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(open_fds(), before);
    });
}
