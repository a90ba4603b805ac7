//! `spingraph up` flags as `spin up` has them (issue 12, item 5), end to end: variable files,
//! `.env`, the environment fallbacks (`SPIN_HTTP_LISTEN_ADDR`, `RUNTIME_CONFIG_FILE`), the
//! manifest found in the working directory, runtime config read only when asked for, and
//! `--spin-compat 4.0.2` refusing the `allowed_outbound_hosts` entries Spin 4.0.2 refuses.

use std::fs::File;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use spingraph_e2e::{
    Client, FIXTURE_SECRET, TempDir, TestApp, TestOptions, Value, fixtures_manifest, free_port,
    host_is_spingraph, json_body, libc, spingraph_bin, workspace_root,
};

/// `/probe/secret-length`: the length of the `probe_secret` the probe component resolved.
fn secret_length(client: &Client, base: &str) -> u64 {
    let resp = client
        .get(format!("{base}/probe/secret-length"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = json_body(resp);
    body["length"].as_u64().expect("a length")
}

/// The fixtures manifest copied into `dir` (its wasm paths made absolute), as `dir/spin.toml`.
fn fixtures_manifest_in(dir: &Path) -> PathBuf {
    let target = workspace_root().join("target");
    let manifest = std::fs::read_to_string(fixtures_manifest())
        .unwrap()
        .replace("../../target", &target.display().to_string());
    let path = dir.join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    path
}

/// Whether the tests that run the `spingraph` binary with flags and environment of their own
/// apply (not under `SPINGRAPH_HOST_CMD`, whose flags the harness does not know).
fn drives_spingraph_directly() -> bool {
    if host_is_spingraph() {
        return true;
    }
    eprintln!("skipped: this test runs the spingraph binary itself, not SPINGRAPH_HOST_CMD");
    false
}

/// `spingraph up` run exactly as given (no harness flags), in `cwd`, with none of the
/// environment the flags fall back to unless `env` sets it; output goes to `cwd/up.log`.
struct Up {
    child: Child,
    log: PathBuf,
}

impl Up {
    fn spawn(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Up {
        let log = cwd.join("up.log");
        let out = File::create(&log).unwrap();
        let mut cmd = Command::new(spingraph_bin());
        cmd.arg("up").args(args).current_dir(cwd);
        for name in [
            "SPIN_HTTP_LISTEN_ADDR",
            "RUNTIME_CONFIG_FILE",
            "SPINGRAPH_SPIN_COMPAT",
            "SPIN_VARIABLE_PROBE_SECRET",
        ] {
            cmd.env_remove(name);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("starting spingraph up");
        Up { child, log }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `addr` answers `/v1/health/live`; panics with the host's output otherwise.
    fn wait_until_live(&mut self, addr: SocketAddr) -> Client {
        let client = Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("up exited ({status}) before serving:\n{}", self.output());
            }
            if let Ok(resp) = client.get(format!("http://{addr}/v1/health/live")).send()
                && resp.status() == 200
            {
                return client;
            }
            assert!(
                Instant::now() < deadline,
                "up did not serve on {addr}:\n{}",
                self.output()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits up to 30 s for the host to exit by itself; its output.
    fn wait_for_failure(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(!status.success(), "up succeeded:\n{}", self.output());
                return self.output();
            }
            assert!(
                Instant::now() < deadline,
                "up kept running:\n{}",
                self.output()
            );
            thread::sleep(Duration::from_millis(25));
        }
    }
}

/// A scratch directory with a copy of the fixtures manifest (`spin.toml`), and a free address
/// to listen on.
struct Scratch {
    dir: TempDir,
    manifest: PathBuf,
    addr: SocketAddr,
}

impl Scratch {
    /// `None` (the test is skipped) unless the tests drive the spingraph binary directly.
    fn new() -> Option<Scratch> {
        if !drives_spingraph_directly() {
            return None;
        }
        let dir = TempDir::create();
        let manifest = fixtures_manifest_in(dir.path());
        let addr = ([127, 0, 0, 1], free_port()).into();
        Some(Scratch {
            dir,
            manifest,
            addr,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `spingraph up -f <the manifest> --listen <the address>`, then `args`, in the directory.
    fn up(&self, args: &[&str], env: &[(&str, &str)]) -> Up {
        let (manifest, listen) = (self.manifest.display().to_string(), self.addr.to_string());
        let flags = [&["-f", &manifest, "--listen", &listen][..], args].concat();
        Up::spawn(self.path(), &flags, env)
    }
}

impl Up {
    /// Once `addr` serves: the length of the `probe_secret` the probe resolved.
    fn served_secret_length(&mut self, addr: SocketAddr) -> u64 {
        let client = self.wait_until_live(addr);
        secret_length(&client, &format!("http://{addr}"))
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let group = -(self.child.id() as libc::pid_t);
        // SAFETY: kill(2) on the process group this test started; no memory is involved.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

#[test]
fn variable_name_at_file_reads_the_secret_from_the_file() {
    let dir = TempDir::create();
    let file = dir.path().join("probe_secret.txt");
    // Spin keeps a file's content as it is (a trailing newline would be part of the value).
    std::fs::write(&file, FIXTURE_SECRET).unwrap();
    let app = TestApp::start(
        TestOptions::fixtures().variable("probe_secret", &format!("@{}", file.display())),
    );
    let base = app.url("");
    assert_eq!(
        secret_length(app.client(), &base),
        FIXTURE_SECRET.len() as u64,
        "the value is the file's content, not the literal \"@{}\"",
        file.display()
    );
    assert!(!app.logs.text().contains(FIXTURE_SECRET), "secret leaked");
}

#[test]
fn listen_address_from_env_dotenv_and_manifest_in_the_working_directory() {
    let Some(s) = Scratch::new() else { return };
    // Read by the default environment provider from the working directory, as Spin does.
    std::fs::write(
        s.path().join(".env"),
        format!("# the fixture's secret\nSPIN_VARIABLE_PROBE_SECRET=\"{FIXTURE_SECRET}x\"\n"),
    )
    .unwrap();
    let listen = s.addr.to_string();
    // No -f, no --listen: spin.toml from the working directory, the address from the env.
    let mut up = Up::spawn(
        s.path(),
        &["--spin-compat", "4.0.2"],
        &[("SPIN_HTTP_LISTEN_ADDR", &listen)],
    );
    assert_eq!(
        up.served_secret_length(s.addr),
        FIXTURE_SECRET.len() as u64 + 1
    );
    assert!(
        !up.output().contains(FIXTURE_SECRET),
        "secret leaked:\n{}",
        up.output()
    );
}

#[test]
fn process_environment_beats_dotenv() {
    let Some(s) = Scratch::new() else { return };
    std::fs::write(s.path().join(".env"), "SPIN_VARIABLE_PROBE_SECRET=short\n").unwrap();
    let mut up = s.up(&[], &[("SPIN_VARIABLE_PROBE_SECRET", FIXTURE_SECRET)]);
    assert_eq!(up.served_secret_length(s.addr), FIXTURE_SECRET.len() as u64);
}

#[test]
fn runtime_config_is_read_only_when_asked_for() {
    let Some(s) = Scratch::new() else { return };
    let rc = s.path().join("runtime-config.toml");
    std::fs::write(
        &rc,
        format!(
            "[[variables_provider]]\ntype = \"static\"\nvalues = {{ probe_secret = \"{FIXTURE_SECRET}\" }}\n"
        ),
    )
    .unwrap();

    // Next to the manifest, but not asked for: ignored, as `spin up` ignores it.
    let out = s.up(&[], &[]).wait_for_failure();
    assert!(out.contains("probe_secret"), "{out}");

    // Asked for through Spin's environment fallback for --runtime-config-file.
    let rc = rc.display().to_string();
    let mut up = s.up(&[], &[("RUNTIME_CONFIG_FILE", &rc)]);
    assert_eq!(up.served_secret_length(s.addr), FIXTURE_SECRET.len() as u64);
}

#[test]
fn variable_files_in_json_and_toml_set_variables_and_bad_ones_stop_up_naming_them() {
    let Some(s) = Scratch::new() else { return };
    let json = s.path().join("vars.json");
    std::fs::write(&json, format!("{{\"probe_secret\": \"{FIXTURE_SECRET}\"}}")).unwrap();
    let toml = s.path().join("vars.toml");
    std::fs::write(&toml, "debug = \"false\"\nprobe_secret = \"abc\"\n").unwrap();
    let (json, toml) = (
        format!("@{}", json.display()),
        format!("@{}", toml.display()),
    );

    // The later source wins: the TOML file's three-character secret.
    let mut up = s.up(&["--variable", &json, "--variable", &toml], &[]);
    assert_eq!(up.served_secret_length(s.addr), 3);
    drop(up);

    let bad = s.path().join("bad.json");
    std::fs::write(&bad, "{\"probe_secret\": 42}").unwrap();
    let bad = format!("@{}", bad.display());
    let out = s.up(&["--variable", &bad], &[]).wait_for_failure();
    assert!(out.contains("bad.json"), "{out}");

    let missing = s.up(&["--variable", "probe_secret=@missing.txt"], &[]);
    let out = missing.wait_for_failure();
    assert!(out.contains("missing.txt"), "{out}");
}

#[test]
fn spin_compat_refuses_allowed_hosts_spin_4_0_2_refuses() {
    let Some(s) = Scratch::new() else { return };
    let text = std::fs::read_to_string(&s.manifest).unwrap();
    let secret = format!("probe_secret={FIXTURE_SECRET}");
    for (entry, expect) in [
        ("insecure:allow-all", "insecure:allow-all"),
        ("rediss://127.0.0.1", "no default port for `rediss`"),
    ] {
        std::fs::write(
            &s.manifest,
            text.replace(
                "[component.probe-denied]\n",
                &format!("[component.probe-denied]\nallowed_outbound_hosts = [\"{entry}\"]\n"),
            ),
        )
        .unwrap();
        let out = s
            .up(&["--variable", &secret, "--spin-compat", "4.0.2"], &[])
            .wait_for_failure();
        assert!(
            out.contains(expect) && out.contains("probe-denied") && out.contains("Spin 4.0.2"),
            "{entry}: {out}"
        );
        // Without --spin-compat the host keeps accepting both forms.
        let mut up = s.up(&["--variable", &secret], &[]);
        up.wait_until_live(s.addr);
    }
}
