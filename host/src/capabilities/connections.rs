//! Per-instance state of a capability that hands guests `connection` resources (Postgres,
//! Redis): the app-wide state it connects through, the component's allowed hosts and the
//! connections the guest opened. A refused or failed open is the WIT `error`, never a trap; a
//! stale handle traps (a host bug).
//!
//! As in Spin's factors, the bindings know nothing of the host's types: the guest holds a
//! `Resource<W>` of the generated placeholder `W`, whose `rep` indexes this instance's own
//! table of connections `C`.

use std::marker::PhantomData;
use std::sync::Arc;

use wasmtime::component::{Resource, ResourceTable};

use crate::grants::allowed_hosts::AllowedHosts;

/// A WIT function's answer: `Err` traps the guest, the inner result is what the guest gets.
pub type Answer<T, E> = wasmtime::Result<Result<T, E>>;

/// One instance's connections `C` through the app-wide state `A`.
pub struct Connections<A, C> {
    app: A,
    allowed_hosts: Arc<AllowedHosts>,
    table: ResourceTable,
    connection: PhantomData<fn() -> C>,
}

impl<A, C: Send + 'static> Connections<A, C> {
    pub fn new(app: A, allowed_hosts: Arc<AllowedHosts>) -> Self {
        Connections {
            app,
            allowed_hosts,
            table: ResourceTable::new(),
            connection: PhantomData,
        }
    }

    /// The app-wide state to connect through, and the allowed hosts to check an address against.
    pub fn connector(&self) -> (&A, &AllowedHosts) {
        (&self.app, &self.allowed_hosts)
    }

    /// The end of `open`: what was opened is handed to the guest as a resource.
    pub fn opened<W: 'static, E>(&mut self, opened: Result<C, E>) -> Answer<Resource<W>, E> {
        match opened {
            Ok(connection) => Ok(Ok(Resource::new_own(self.table.push(connection)?.rep()))),
            Err(err) => Ok(Err(err)),
        }
    }

    /// The open connection behind `resource`.
    pub fn connection<W: 'static>(&mut self, resource: &Resource<W>) -> wasmtime::Result<&mut C> {
        Ok(self
            .table
            .get_mut(&Resource::<C>::new_borrow(resource.rep()))?)
    }

    /// The guest dropped `resource`: the connection's own `Drop` decides what becomes of it.
    pub fn close<W: 'static>(&mut self, resource: Resource<W>) -> wasmtime::Result<()> {
        self.table.delete(Resource::<C>::new_own(resource.rep()))?;
        Ok(())
    }
}
