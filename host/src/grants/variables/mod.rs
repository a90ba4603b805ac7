//! Application variables, resolved exactly as Spin does: `--variable` values (literal, `@file`
//! or a JSON/TOML file of them, `sources`), then the runtime-config providers in order
//! (`providers`), then `SPIN_VARIABLE_<NAME>` (and `./.env`, read with dotenvy), then the manifest
//! default (`resolver`, then [`Variables::resolve`]). A component is granted only its own
//! `[component.X.variables]`, whose `{{ app_variable }}` templates are expanded once at start-up.
//! The WIT interfaces that read them are `capabilities/variables.rs`.

mod providers;
mod resolver;
mod sources;

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result, bail};

use crate::manifest::{self, Template};

pub use providers::{DEFAULT_DOTENV, DEFAULT_ENV_PREFIX, KEY_VALUE_KEY, PROVIDERS_KEY, Provider};
pub use resolver::Resolver;
pub use sources::VariableSource;

/// A variable value that never prints itself when secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Value {
    value: String,
    secret: bool,
}

impl Value {
    pub fn new(value: impl Into<String>, secret: bool) -> Value {
        Value {
            value: value.into(),
            secret,
        }
    }

    /// The real value; use only to hand it to a guest or a template.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("\"<redacted>\"")
        } else {
            fmt::Debug::fmt(&self.value, f)
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("<redacted>")
        } else {
            f.write_str(&self.value)
        }
    }
}

/// Every application variable, resolved once at start-up; each component's
/// `[component.X.variables]` are rendered from them ([`Variables::for_component`]).
#[derive(Debug)]
pub struct Variables {
    app: BTreeMap<String, Value>,
}

impl Variables {
    /// Resolves every declared variable; a required variable without a value is an
    /// error naming it (all such variables, in fact).
    pub fn resolve(
        declared: &BTreeMap<String, manifest::Variable>,
        resolver: &Resolver,
    ) -> Result<Variables> {
        for name in resolver.overrides.keys() {
            if !declared.contains_key(name) {
                tracing::warn!(variable = %name, "--variable names a variable the manifest does not declare");
            }
        }
        let mut app = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, decl) in declared {
            match resolver.lookup(name)?.or_else(|| decl.default.clone()) {
                Some(value) => {
                    app.insert(name.clone(), Value::new(value, decl.secret));
                }
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            let list = missing.join(", ");
            let first = missing[0];
            bail!(
                "required variable{} not set: {list} (set it with --variable {first}=..., \
                 {DEFAULT_ENV_PREFIX}_{} in the environment or in ./{DEFAULT_DOTENV}, or a \
                 --runtime-config-file provider)",
                if missing.len() > 1 { "s" } else { "" },
                first.to_ascii_uppercase()
            );
        }
        Ok(Variables { app })
    }

    /// An application variable's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.app.get(name)
    }

    /// Expands `{{ app_variable }}` references (allowed_outbound_hosts, component variables).
    pub fn render(&self, template: &str) -> Result<Value> {
        let t = Template::parse(template)?;
        let secret = t
            .variables()
            .any(|v| self.app.get(v).is_some_and(Value::is_secret));
        let rendered = t.render(|v| self.app.get(v).map(Value::expose))?;
        Ok(Value::new(rendered, secret))
    }

    /// Every one of `templates` expanded, as the plain text a check reads (allowed hosts).
    pub fn render_all(&self, templates: &[String]) -> Result<Vec<String>> {
        templates
            .iter()
            .map(|t| Ok(self.render(t)?.expose().to_string()))
            .collect()
    }

    /// The values one component may read: its `[component.X.variables]`, rendered.
    pub fn for_component(
        &self,
        component: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, Value>> {
        templates
            .iter()
            .map(|(k, t)| {
                let v = self
                    .render(t)
                    .with_context(|| format!("[component.{component}.variables] {k}"))?;
                Ok((k.clone(), v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;
    use crate::manifest::Variable;

    fn decls(entries: &[(&str, Option<&str>, bool)]) -> BTreeMap<String, Variable> {
        entries
            .iter()
            .map(|(name, default, secret)| {
                (
                    name.to_string(),
                    Variable {
                        description: None,
                        required: default.is_none(),
                        default: default.map(str::to_string),
                        secret: *secret,
                    },
                )
            })
            .collect()
    }

    fn resolver(cli: &[(&str, &str)], rc: Option<&str>, env: &[(&str, &str)]) -> Resolver {
        let cli: Vec<(String, String)> = cli
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let rc: Option<toml::Table> = rc.map(|t| toml::from_str(t).unwrap());
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Resolver::new(&cli, rc.as_ref())
            .unwrap()
            .with_dotenv(None)
            .with_env(move |k| env.get(k).cloned())
    }

    /// What variable `a` of `d` resolves to through `r`.
    fn resolved_a(d: &BTreeMap<String, Variable>, r: &Resolver) -> String {
        Variables::resolve(d, r)
            .unwrap()
            .get("a")
            .unwrap()
            .expose()
            .to_string()
    }

    /// What a required variable `a` resolves to with runtime config `rc` alone.
    fn a_from_runtime_config(rc: &str) -> String {
        resolved_a(&decls(&[("a", None, false)]), &resolver(&[], Some(rc), &[]))
    }

    const RC_ENV_PREFIX: &str = "[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\n";

    #[test]
    fn precedence_is_cli_then_providers_then_spin_env_then_default() {
        let d = decls(&[("a", Some("default"), false)]);
        let all = resolver(
            &[("a", "cli")],
            Some(RC_ENV_PREFIX),
            &[("MYAPP_A", "provider"), ("SPIN_VARIABLE_A", "env")],
        );
        assert_eq!(resolved_a(&d, &all), "cli");

        let no_cli = resolver(
            &[],
            Some(RC_ENV_PREFIX),
            &[("MYAPP_A", "provider"), ("SPIN_VARIABLE_A", "env")],
        );
        assert_eq!(resolved_a(&d, &no_cli), "provider");

        let env_only = resolver(&[], Some(RC_ENV_PREFIX), &[("SPIN_VARIABLE_A", "env")]);
        assert_eq!(resolved_a(&d, &env_only), "env");

        let nothing = resolver(&[], None, &[]);
        assert_eq!(resolved_a(&d, &nothing), "default");
    }

    #[test]
    fn static_provider_supplies_values() {
        assert_eq!(
            a_from_runtime_config(
                "[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"s\" }\n"
            ),
            "s"
        );
    }

    /// The error `Resolver::new` gives for a runtime-config text.
    fn rc_error(rc: &str) -> String {
        let rc: toml::Table = toml::from_str(rc).unwrap();
        format!(
            "{:#}",
            Resolver::new(&[], Some(&rc)).err().expect("rejected")
        )
    }

    #[test]
    fn unsupported_provider_types_are_errors_naming_them() {
        let err = rc_error("[[variables_provider]]\ntype = \"vault\"\nurl = \"x\"\n");
        assert!(
            err.contains("\"vault\"") && err.contains("not supported"),
            "{err}"
        );
        let err = rc_error("[[variables_provider]]\ntype = \"magic\"\n");
        assert!(
            err.contains("unknown variables provider type \"magic\""),
            "{err}"
        );
        let err = rc_error("[[variables_provider]]\nprefix = \"X\"\n");
        assert!(err.contains("needs a `type`"), "{err}");
    }

    #[test]
    fn unknown_runtime_config_key_is_an_error_naming_it() {
        let err = rc_error("[sqlite_database.default]\ntype = \"libsql\"\n");
        assert!(
            err.contains("\"sqlite_database\" (read by Spin, not supported"),
            "{err}"
        );
        let err = rc_error("[[variable_provider]]\ntype = \"env\"\n");
        assert!(
            err.contains("\"variable_provider\" (unknown to Spin too)"),
            "{err}"
        );
    }

    #[test]
    fn legacy_config_provider_is_read_only_without_variables_provider() {
        let legacy = "[[config_provider]]\ntype = \"static\"\nvalues = { a = \"old\" }\n";
        assert_eq!(a_from_runtime_config(legacy), "old");
        // Spin 4.0.2 ignores config_provider next to variables_provider and then fails on it.
        let err = rc_error(&format!(
            "{legacy}[[variables_provider]]\ntype = \"static\"\nvalues = {{ a = \"new\" }}\n"
        ));
        assert!(
            err.contains("\"config_provider\" (ignored by Spin"),
            "{err}"
        );
    }

    #[test]
    fn env_provider_rejects_unknown_fields_and_static_ignores_them_as_spin_does() {
        let err = rc_error("[[variables_provider]]\ntype = \"env\"\nprefx = \"X\"\n");
        assert!(err.contains("prefx"), "{err}");
        let rc = "[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"s\" }\nnote = 1\n";
        assert_eq!(a_from_runtime_config(rc), "s");
    }

    #[test]
    fn empty_env_prefix_still_joins_with_an_underscore_as_spin_does() {
        let d = decls(&[("a", None, false)]);
        let rc = "[[variables_provider]]\ntype = \"env\"\nprefix = \"\"\n";
        let r = resolver(&[], Some(rc), &[("A", "bare"), ("_A", "underscored")]);
        assert_eq!(resolved_a(&d, &r), "underscored");
    }

    /// A file under a fresh temp directory, removed (with the directory) when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> TempFile {
            let dir = std::env::temp_dir().join(format!("spingraph-unit-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn arg(&self, prefix: &str) -> String {
            format!("{prefix}@{}", self.0.display())
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    fn read_sources(args: &[String]) -> Result<Vec<(String, String)>> {
        let sources = args
            .iter()
            .map(|a| a.parse::<VariableSource>())
            .collect::<Result<Vec<_>>>()?;
        VariableSource::read_all(&sources)
    }

    #[test]
    fn variable_flag_forms_parse_as_spin_up_takes_them() {
        assert_eq!(
            "a_b=x=y".parse::<VariableSource>().unwrap(),
            VariableSource::Literal("a_b".into(), "x=y".into())
        );
        assert_eq!(
            "k=@secret.txt".parse::<VariableSource>().unwrap(),
            VariableSource::FileContent("k".into(), "secret.txt".into())
        );
        assert_eq!(
            "@vars.json".parse::<VariableSource>().unwrap(),
            VariableSource::JsonFile("vars.json".into())
        );
        assert_eq!(
            "@dir/vars.toml".parse::<VariableSource>().unwrap(),
            VariableSource::TomlFile("dir/vars.toml".into())
        );
        assert_eq!(
            "k=".parse::<VariableSource>().unwrap(),
            VariableSource::Literal("k".into(), String::new())
        );
    }

    #[test]
    fn malformed_variable_flags_are_errors_naming_the_problem() {
        for (arg, expect) in [
            ("novalue", "expected NAME=VALUE"),
            ("@vars", "must end in .json or .toml"),
            ("@vars.yaml", "must end in .json or .toml"),
            ("Bad=1", "variable name \"Bad\""),
            ("=1", "must not be empty"),
            ("Bad=@file", "variable name \"Bad\""),
        ] {
            let err = format!("{:#}", arg.parse::<VariableSource>().unwrap_err());
            assert!(err.contains(expect), "{arg:?}: {err}");
        }
    }

    #[test]
    fn name_at_file_reads_the_whole_file_as_the_value() {
        let file = TempFile::new("secret.txt", "s3cr=t\nline two\n");
        let vars = read_sources(&[file.arg("probe_secret=")]).unwrap();
        // Spin keeps the content as it is, trailing newline included.
        assert_eq!(
            vars,
            vec![("probe_secret".into(), "s3cr=t\nline two\n".into())]
        );
    }

    #[test]
    fn json_and_toml_files_set_many_variables_and_the_last_source_wins() {
        let json = TempFile::new("vars.json", r#"{"a": "json", "b": "json"}"#);
        let toml = TempFile::new("vars.toml", "b = \"toml\"\nc = \"toml\"\n");
        let vars = read_sources(&[json.arg(""), toml.arg(""), "c=cli".to_string()]).unwrap();
        assert_eq!(
            vars,
            vec![
                ("a".into(), "json".into()),
                ("b".into(), "toml".into()),
                ("c".into(), "cli".into())
            ]
        );
        // ... and a literal before a file is overridden by it.
        let vars = read_sources(&["a=cli".to_string(), json.arg("")]).unwrap();
        assert_eq!(vars[0], ("a".into(), "json".into()));
    }

    #[test]
    fn unreadable_or_malformed_variable_files_are_errors_naming_the_file() {
        let missing = std::env::temp_dir().join("spingraph-no-such-dir/secret.txt");
        let err = format!(
            "{:#}",
            read_sources(&[format!("k=@{}", missing.display())]).unwrap_err()
        );
        assert!(
            err.contains("cannot read") && err.contains("secret.txt"),
            "{err}"
        );

        // The error a file of variables `name` holding `contents` gives.
        let file_error = |name: &str, contents: &str| {
            let file = TempFile::new(name, contents);
            format!("{:#}", read_sources(&[file.arg("")]).unwrap_err())
        };
        let err = file_error("bad.json", "{\"a\": ");
        assert!(
            err.contains("bad.json") && err.contains("not a JSON object"),
            "{err}"
        );
        let err = file_error("number.json", r#"{"a": 1}"#);
        assert!(err.contains("number.json"), "{err}");
        let err = file_error("bad.toml", "a = \n");
        assert!(
            err.contains("bad.toml") && err.contains("not a TOML table"),
            "{err}"
        );
        let err = file_error("names.toml", "DB_URL = \"x\"\n");
        assert!(
            err.contains("names.toml") && err.contains("\"DB_URL\""),
            "{err}"
        );
    }

    #[test]
    fn dotenv_is_read_with_dotenvy_after_the_process_environment() {
        let dotenv = TempFile::new(
            ".env",
            "# comment\nSPIN_VARIABLE_A=from-dotenv\nexport SPIN_VARIABLE_B=\"two words\"\nSPIN_VARIABLE_C='3'\n",
        );
        let d = decls(&[("a", None, false), ("b", None, false), ("c", None, false)]);
        let r = resolver(&[], None, &[("SPIN_VARIABLE_A", "from-env")])
            .with_dotenv(Some(dotenv.0.clone()));
        let vars = Variables::resolve(&d, &r).unwrap();
        assert_eq!(vars.get("a").unwrap().expose(), "from-env");
        assert_eq!(vars.get("b").unwrap().expose(), "two words");
        assert_eq!(vars.get("c").unwrap().expose(), "3");
    }

    #[test]
    fn missing_dotenv_is_empty_and_a_malformed_one_is_an_error_naming_it() {
        let d = decls(&[("a", Some("default"), false)]);
        let r = resolver(&[], None, &[]).with_dotenv(Some(
            std::env::temp_dir().join("spingraph-no-such-dir/.env"),
        ));
        assert_eq!(resolved_a(&d, &r), "default");

        let bad = TempFile::new(".env", "SPIN_VARIABLE_A='unterminated\n");
        let r = resolver(&[], None, &[]).with_dotenv(Some(bad.0.clone()));
        let err = format!("{:#}", Variables::resolve(&d, &r).unwrap_err());
        assert!(
            err.contains("invalid dotenv file") && err.contains(".env"),
            "{err}"
        );
    }

    #[test]
    fn runtime_config_env_provider_reads_only_its_own_dotenv_path() {
        let dotenv = TempFile::new("app.env", "MYAPP_A=from-app-env\n");
        let rc = format!(
            "[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\ndotenv_path = {:?}\n",
            dotenv.0.display().to_string()
        );
        let d = decls(&[("a", None, false)]);
        let r = resolver(&[], Some(&rc), &[]);
        assert_eq!(resolved_a(&d, &r), "from-app-env");
        let no_path = resolver(&[], Some(RC_ENV_PREFIX), &[]);
        assert!(Variables::resolve(&d, &no_path).is_err());
    }

    #[test]
    fn required_variable_without_value_is_an_error_naming_it() {
        let d = decls(&[("jwt_signing_key", None, true), ("ok", Some("x"), false)]);
        let err = Variables::resolve(&d, &resolver(&[], None, &[])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("jwt_signing_key"), "{msg}");
        assert!(msg.contains("SPIN_VARIABLE_JWT_SIGNING_KEY"), "{msg}");
    }

    #[test]
    fn secret_values_are_redacted_in_debug_and_display() {
        let d = decls(&[("key", None, true)]);
        let vars = Variables::resolve(&d, &resolver(&[("key", "hunter2")], None, &[])).unwrap();
        assert!(!format!("{vars:?}").contains("hunter2"));
        let v = vars.get("key").unwrap();
        assert_eq!(v.to_string(), "<redacted>");
        assert_eq!(v.expose(), "hunter2");
        // A component variable built from a secret is secret too.
        let t = BTreeMap::from([("k".to_string(), "x{{ key }}".to_string())]);
        let cv = vars.for_component("c", &t).unwrap();
        assert!(!format!("{cv:?}").contains("hunter2"));
        assert_eq!(cv["k"].expose(), "xhunter2");
    }
}
