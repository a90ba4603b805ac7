//! Per-instance state of a capability that hands guests `connection` resources (Postgres,
//! Redis): the app-wide state it connects through, the component's allowed hosts and the
//! connections the guest opened. A refused or failed open is the WIT `error`, never a trap; a
//! stale handle traps (a host bug).

use std::sync::Arc;

use wasmtime::component::{Resource, ResourceTable};

use crate::allowed_hosts::AllowedHosts;

/// A WIT function's answer: `Err` traps the guest, the inner result is what the guest gets.
pub type Answer<T, E> = wasmtime::Result<Result<T, E>>;

/// One instance's connections through the app-wide state `A`.
pub struct Connections<A> {
    app: A,
    allowed_hosts: Arc<AllowedHosts>,
    table: ResourceTable,
}

impl<A> Connections<A> {
    pub fn new(app: A, allowed_hosts: Arc<AllowedHosts>) -> Self {
        Connections {
            app,
            allowed_hosts,
            table: ResourceTable::new(),
        }
    }

    /// The app-wide state to connect through, and the allowed hosts to check an address against.
    pub fn connector(&self) -> (&A, &AllowedHosts) {
        (&self.app, &self.allowed_hosts)
    }

    /// The end of `open`: what was opened is handed to the guest as a resource.
    pub fn opened<C: Send + 'static, E>(&mut self, opened: Result<C, E>) -> Answer<Resource<C>, E> {
        match opened {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(err) => Ok(Err(err)),
        }
    }

    /// The open connection behind `resource`.
    pub fn connection<C: 'static>(&mut self, resource: &Resource<C>) -> wasmtime::Result<&mut C> {
        Ok(self.table.get_mut(resource)?)
    }

    /// The guest dropped `resource`: the connection's own `Drop` decides what becomes of it.
    pub fn close<C: 'static>(&mut self, resource: Resource<C>) -> wasmtime::Result<()> {
        self.table.delete(resource)?;
        Ok(())
    }
}
