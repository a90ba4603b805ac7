//! Build-time input of the explorer component: the browser build of the npm package `cytoscape`,
//! which the first build step in spin.toml (`./dev npm-asset cytoscape@<version>
//! target/npm/cytoscape`) unpacks before the wasm build (override with `CYTOSCAPE_DIST`, a
//! directory holding an unpacked copy of the package).

use std::fs;
use std::path::PathBuf;

/// The package's self-contained browser build (UMD, defines `window.cytoscape`).
const BUNDLE: &str = "dist/cytoscape.min.js";

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    println!("cargo:rerun-if-env-changed=CYTOSCAPE_DIST");
    let package = std::env::var_os("CYTOSCAPE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/npm/cytoscape"));
    let from = package.join(BUNDLE);
    println!("cargo:rerun-if-changed={}", from.display());
    if let Err(e) = fs::copy(&from, out.join("cytoscape.min.js")) {
        panic!(
            "\n\nthe explorer component bundles the npm package `cytoscape`, but {} is missing \
             ({e}).\nRun the component's build (`spin build`, `spingraph build` or \
             `./dev build`: the first step of [component.explorer.build] in spin.toml, \
             `./dev npm-asset cytoscape@<version> target/npm/cytoscape`, unpacks it), or set \
             CYTOSCAPE_DIST to an unpacked copy of the package.\n\n",
            from.display()
        );
    }
}
