//! Build-time inputs of the docs component: `openapi.yaml` (repository root) converted to JSON,
//! and the Swagger UI files of the npm package `swagger-ui-dist`, which the first step of
//! `[component.docs.build]` in spin.toml (`./dev npm-asset ...`) unpacks into
//! `target/swagger-ui-dist/` (override with `SWAGGER_UI_DIST`).

use std::fs;
use std::path::{Path, PathBuf};

/// The files of `swagger-ui-dist` the page needs; each is copied into `$OUT_DIR/swagger-ui/`.
const ASSETS: &[&str] = &[
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "favicon-32x32.png",
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    let yaml_path = root.join("openapi.yaml");
    println!("cargo:rerun-if-changed={}", yaml_path.display());
    let yaml = fs::read_to_string(&yaml_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", yaml_path.display()));
    let doc: serde_json::Value = serde_norway::from_str(&yaml)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", yaml_path.display()));
    assert!(
        doc.get("openapi")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.starts_with("3.1")),
        "{} must be an OpenAPI 3.1 document",
        yaml_path.display()
    );
    fs::write(
        out.join("openapi.json"),
        serde_json::to_string(&doc).unwrap(),
    )
    .unwrap();

    println!("cargo:rerun-if-env-changed=SWAGGER_UI_DIST");
    let dist = std::env::var_os("SWAGGER_UI_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/swagger-ui-dist"));
    let assets = out.join("swagger-ui");
    fs::create_dir_all(&assets).unwrap();
    for name in ASSETS {
        copy_asset(&dist.join(name), &assets.join(name));
    }
}

fn copy_asset(from: &Path, to: &Path) {
    println!("cargo:rerun-if-changed={}", from.display());
    if let Err(e) = fs::copy(from, to) {
        panic!(
            "\n\nthe docs component bundles Swagger UI from the npm package `swagger-ui-dist`, but \
             {} is missing ({e}).\nRun the component's build (`spin build`, `spingraph build` or \
             `./dev build`: its first step unpacks the package into target/swagger-ui-dist/), or \
             set SWAGGER_UI_DIST to an unpacked copy of its dist files.\n\n",
            from.display()
        );
    }
}
