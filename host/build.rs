//! Finds the WIT the spin-sdk crate ships (no copy of Spin's WIT lives in this repository) and
//! writes `$OUT_DIR/spin_wit_packages.rs`: one `spin_bindings!(...)` line naming the package
//! directories `src/capabilities/bindings.rs` generates the host bindings from, for the world
//! of `wit/world.wit`. spin-sdk is found with `cargo metadata` (registry, vendored or git
//! sources alike), or at `SPINGRAPH_SPIN_SDK_WIT`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The spin-sdk release line whose WIT the guests are built against.
const SPIN_SDK_VERSION: &str = "5.2";

/// The WIT packages (directories under spin-sdk's `wit/deps/`) the world needs, dependencies
/// first. Only these are parsed: the rest of spin-sdk's WIT includes WASIp3 packages
/// (`stream`/`future` types) that bindgen would refuse without component-model-async.
const WIT_PACKAGES: &[&str] = &[
    // fermyon:spin@2.0.0 refers to both WASI 0.2.0 and its 2023-10-18 release candidate.
    "io@0.2.0",
    "clocks@0.2.0",
    "random@0.2.0",
    "filesystem@0.2.0",
    "sockets@0.2.0",
    "cli@0.2.0",
    "http@0.2.0",
    "io-2023-10-18",
    "clocks-2023-10-18",
    "random-2023-10-18",
    "filesystem-2023-10-18",
    "sockets-2023-10-18",
    "cli-2023-10-18",
    "http-2023-10-18",
    "spin@2.0.0",
    "spin-postgres@4.0.0",
    "wasi-runtime-config-2024-09-27",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("host/ sits in the workspace");
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=SPINGRAPH_SPIN_SDK_WIT");

    let wit = match env::var_os("SPINGRAPH_SPIN_SDK_WIT") {
        Some(dir) => PathBuf::from(dir),
        None => spin_sdk_wit(workspace).unwrap_or_else(|err| {
            panic!(
                "\n\nspingraph host: cannot find the WIT of spin-sdk {SPIN_SDK_VERSION}.x: {err}\n\
                 The host's Spin bindings come from the `wit/` directory of the spin-sdk crate \
                 (a dependency of the guest crates in this workspace).\n\
                 Fix: run `cargo fetch` in the workspace, or set SPINGRAPH_SPIN_SDK_WIT to the \
                 spin-sdk crate's wit directory, and build again.\n\n"
            )
        }),
    };
    let packages = WIT_PACKAGES
        .iter()
        .map(|package| {
            let dir = wit.join("deps").join(package);
            assert!(dir.is_dir(), "spin-sdk's WIT has no {}", dir.display());
            format!("{:?}", dir.display().to_string())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let source = format!("spin_bindings!({packages});\n");

    // Rewritten only when it changes, so an unrelated Cargo.lock edit recompiles nothing.
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("spin_wit_packages.rs");
    if fs::read_to_string(&out).ok().as_deref() != Some(source.as_str()) {
        fs::write(&out, source).expect("writing $OUT_DIR/spin_wit_packages.rs");
    }
}

/// The `wit/` directory of the spin-sdk package the workspace resolves to.
fn spin_sdk_wit(workspace: &Path) -> Result<PathBuf, String> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(workspace.join("Cargo.toml"))
        .other_options(vec!["--locked".to_string()])
        .exec()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    let sdk = metadata
        .packages
        .iter()
        .filter(|p| p.name.as_str() == "spin-sdk")
        .find(|p| format!("{}.{}", p.version.major, p.version.minor) == SPIN_SDK_VERSION)
        .ok_or_else(|| format!("the workspace resolves no spin-sdk {SPIN_SDK_VERSION}.x"))?;
    let wit = sdk
        .manifest_path
        .parent()
        .ok_or("spin-sdk's manifest path has no parent")?
        .join("wit");
    if wit.join("deps").is_dir() {
        Ok(wit.into_std_path_buf())
    } else {
        Err(format!("{wit} has no deps/ directory"))
    }
}
