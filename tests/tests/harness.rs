//! The harness itself: it can drive a host that serves from a child process, as `spin up` does
//! (`spin up` starts `spin trigger http`), so `SPINGRAPH_HOST_CMD="spin up"` runs the suite.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use spingraph_e2e::{TempDir, TestApp, TestOptions, host_is_spingraph, libc, spingraph_bin};

/// Whether process `pid` still exists (and is not a zombie waiting for its parent).
fn alive(pid: libc::pid_t) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name: "Z" is a zombie.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn teardown_ends_a_host_that_serves_from_a_child_process() {
    if !host_is_spingraph() {
        // The wrapper below runs spingraph's binary; under another host there is nothing to wrap.
        eprintln!("skipped: wraps spingraph's own binary");
        return;
    }
    let dir = TempDir::create();
    let wrapper = dir.path().join("spin-like-up");
    // Like `spin up`: the process the harness starts only waits; a child serves. Killing just
    // the wrapper would leave the child running, holding the log pipes, and teardown would hang.
    std::fs::write(
        &wrapper,
        "#!/bin/sh\n\"$SPINGRAPH_BIN\" up --spin-compat 4.0.2 \"$@\" &\necho \"serving child pid $!\"\nwait\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let app = TestApp::start(
        TestOptions::default()
            .host_cmd(wrapper.to_str().unwrap())
            .env("SPINGRAPH_BIN", spingraph_bin().to_str().unwrap()),
    );
    assert_eq!(app.get("/v1/health/live").send().unwrap().status(), 200);
    let line = app
        .logs
        .wait_for(Duration::from_secs(5), |l| {
            l.starts_with("serving child pid ")
        })
        .expect("the wrapper printed its child's pid");
    let child: libc::pid_t = line["serving child pid ".len()..].trim().parse().unwrap();
    assert!(alive(child), "the serving child runs");

    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        drop(app);
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("teardown finished (it hangs when the child keeps the log pipes open)");
    assert!(
        !alive(child),
        "the serving child was stopped with its wrapper"
    );
}
