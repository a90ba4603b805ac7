//! What one component may reach, as its manifest grants it: its variables, the hosts it may
//! connect to, its environment and files, the key-value stores it may open. Built once per
//! component load ([`Grants::of`]); each instance's capabilities are prepared from it.

pub mod allowed_hosts;
pub mod variables;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::manifest::{App, FilesMount};
use allowed_hosts::AllowedHosts;
use variables::{Value, Variables};

/// Everything the manifest grants one component.
#[derive(Debug)]
pub struct Grants {
    pub component: Arc<str>,
    /// `allowed_outbound_hosts`, its `{{ variables }}` expanded.
    pub allowed_hosts: Arc<AllowedHosts>,
    /// Its own `[component.X.variables]`, rendered.
    pub variables: Arc<BTreeMap<String, Value>>,
    pub environment: Vec<(String, String)>,
    /// (host directory, guest path) mounted read-only.
    pub files: Vec<(PathBuf, String)>,
    /// The labels of the key-value stores it may open.
    pub key_value_stores: Vec<String>,
}

impl Grants {
    /// What `app`'s component `id` is granted, its templates rendered from `variables`.
    pub fn of(app: &App, id: &str, variables: &Variables) -> Result<Grants> {
        let component = app
            .manifest
            .component
            .get(id)
            .with_context(|| format!("no [component.{id}] in {}", app.path.display()))?;
        let hosts = variables
            .render_all(&component.allowed_outbound_hosts)
            .with_context(|| format!("[component.{id}] allowed_outbound_hosts"))?;
        Ok(Grants {
            component: Arc::from(id),
            allowed_hosts: Arc::new(AllowedHosts::parse(&hosts)?),
            variables: Arc::new(variables.for_component(id, &component.variables)?),
            environment: component
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            files: component
                .files
                .iter()
                .filter_map(|f| match f {
                    FilesMount::Placement(p) => {
                        Some((app.resolve(&p.source), p.destination.clone()))
                    }
                    FilesMount::Pattern(_) => None,
                })
                .collect(),
            key_value_stores: component.key_value_stores.clone(),
        })
    }

    /// A component granted nothing (unit tests).
    #[cfg(test)]
    pub fn none(component: &str) -> Grants {
        Grants {
            component: Arc::from(component),
            allowed_hosts: Arc::new(AllowedHosts::parse(&[]).expect("no hosts parse")),
            variables: Arc::default(),
            environment: Vec::new(),
            files: Vec::new(),
            key_value_stores: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn app() -> App {
        let manifest = "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
            [variables]\ndb_host = { default = \"db:5432\" }\ntoken = { default = \"s3cret\", secret = true }\n\
            [[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n\
            [component.web]\nsource = \"web.wasm\"\n\
            allowed_outbound_hosts = [\"postgres://{{ db_host }}\"]\n\
            key_value_stores = [\"default\"]\n\
            environment = { MODE = \"test\" }\n\
            files = [{ source = \"assets\", destination = \"/assets\" }]\n\
            [component.web.variables]\nurl = \"postgres://{{ db_host }}/app\"\nkey = \"{{ token }}\"\n";
        App {
            manifest: Manifest::parse(manifest).unwrap(),
            path: "/app/spin.toml".into(),
            dir: "/app".into(),
        }
    }

    #[test]
    fn a_component_is_granted_only_what_its_own_table_names_rendered() {
        let app = app();
        let resolver = variables::Resolver::new(&[], None).unwrap();
        let variables = Variables::resolve(&app.manifest.variables, &resolver).unwrap();
        let grants = Grants::of(&app, "web", &variables).unwrap();
        assert_eq!(&*grants.component, "web");
        assert!(grants.allowed_hosts.allows("postgres", "db", 5432));
        assert!(!grants.allowed_hosts.allows("postgres", "other", 5432));
        let names: Vec<&str> = grants.variables.keys().map(String::as_str).collect();
        assert_eq!(names, ["key", "url"], "its own variables, not the app's");
        assert_eq!(grants.variables["url"].expose(), "postgres://db:5432/app");
        assert!(
            grants.variables["key"].is_secret(),
            "rendered from a secret"
        );
        assert_eq!(
            grants.environment,
            [("MODE".to_string(), "test".to_string())]
        );
        assert_eq!(
            grants.files,
            [(PathBuf::from("/app/assets"), "/assets".to_string())]
        );
        assert_eq!(grants.key_value_stores, ["default"]);
        let err = Grants::of(&app, "nope", &variables)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[component.nope]"), "{err}");
    }
}
