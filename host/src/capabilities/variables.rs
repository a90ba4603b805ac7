//! `fermyon:spin/variables@2.0.0` and `wasi:config/store`: a component reads the variables its
//! grants hold (`grants/variables`), its own `[component.X.variables]` rendered at start-up.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker};

use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capability, InstanceField, Prepare};
use crate::grants::variables::Value;
use crate::manifest;

/// One component's variables, as its grants hold them (two `Arc`s).
#[derive(Debug, Clone)]
pub struct VariablesInstance {
    component: Arc<str>,
    values: Arc<BTreeMap<String, Value>>,
}

/// Why a variable read failed; mapped onto each WIT interface's error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetError {
    InvalidName(String),
    Undefined(String),
}

impl VariablesInstance {
    pub fn get(&self, name: &str) -> Result<String, GetError> {
        if let Err(e) = manifest::validate_variable_name(name) {
            return Err(GetError::InvalidName(e.to_string()));
        }
        self.values
            .get(name)
            .map(|v| v.expose().to_string())
            .ok_or_else(|| {
                GetError::Undefined(format!("no variable for {:?}.{name:?}", self.component))
            })
    }

    pub fn get_all(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_string()))
            .collect()
    }
}

/// App-wide variables state: none (each component's values are in its grants).
pub struct Variables;

impl Capability for Variables {
    type Config = ();
    type Instance = VariablesInstance;

    /// Links `fermyon:spin/variables@2.0.0` and `wasi:config/store`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, field: InstanceField<Self>) -> Result<()> {
        v2::add_to_linker::<_, HasSelf<VariablesInstance>>(linker, field)?;
        wasi_config::add_to_linker::<_, HasSelf<VariablesInstance>>(linker, field)?;
        Ok(())
    }

    fn configure_app((): ()) -> Result<Variables> {
        Ok(Variables)
    }

    fn prepare(&self, cx: &Prepare<'_>) -> Result<VariablesInstance> {
        Ok(VariablesInstance {
            component: cx.grants.component.clone(),
            values: cx.grants.variables.clone(),
        })
    }
}

use crate::capabilities::bindings::fermyon::spin::variables as v2;
use crate::capabilities::bindings::wasi::config::store as wasi_config;

impl v2::Host for VariablesInstance {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, v2::Error>> {
        Ok(VariablesInstance::get(self, &name).map_err(|e| match e {
            GetError::InvalidName(m) => v2::Error::InvalidName(m),
            GetError::Undefined(m) => v2::Error::Undefined(m),
        }))
    }
}

impl wasi_config::Host for VariablesInstance {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
        // Spin answers an unknown or invalid key with `none`, not an error.
        Ok(Ok(VariablesInstance::get(self, &key).ok()))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
        Ok(Ok(VariablesInstance::get_all(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::Grants;

    #[test]
    fn component_reads_only_its_own_variables() {
        let mut grants = Grants::none("web");
        grants.variables = Arc::new(BTreeMap::from([(
            "database_url".to_string(),
            Value::new("postgres://h:5432/app", false),
        )]));
        let inst = Variables.prepare(&Prepare { grants: &grants }).unwrap();
        assert_eq!(inst.get("database_url").unwrap(), "postgres://h:5432/app");
        assert!(matches!(inst.get("db_host"), Err(GetError::Undefined(_))));
        assert!(matches!(
            inst.get("Bad-Name"),
            Err(GetError::InvalidName(_))
        ));
        assert_eq!(inst.get_all().len(), 1);
    }
}
