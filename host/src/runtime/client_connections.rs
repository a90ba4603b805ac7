//! Open connections per client address, capped (`--max-connections-per-client`), so that
//! numerous connections from one client cannot starve the others.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open connections per client address, capped ([`ClientConnections::admit`]).
#[derive(Clone)]
pub struct ClientConnections {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One admitted connection; dropping it frees its place.
pub struct ClientConnection {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ClientConnections {
    pub fn new(limit: usize) -> ClientConnections {
        ClientConnections {
            limit,
            open: Arc::default(),
        }
    }

    /// A place for one more connection from `ip`, or `None` when it holds `limit` already.
    pub fn admit(&self, ip: IpAddr) -> Option<ClientConnection> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if self.limit != 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientConnection {
            ip,
            open: self.open.clone(),
        })
    }
}

impl Drop for ClientConnection {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_connections_are_capped_per_address_and_freed_on_drop() {
        let cap = ClientConnections::new(2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "::1".parse().unwrap();
        let first = cap.admit(a).expect("first");
        let second = cap.admit(a).expect("second");
        assert!(
            cap.admit(a).is_none(),
            "a third connection from one address is refused"
        );
        let other = cap.admit(b).expect("another address has its own cap");
        drop(first);
        let again = cap.admit(a).expect("a closed connection frees its place");
        drop((second, again, other));
        assert!(
            cap.open.lock().unwrap().is_empty(),
            "no entry left for idle addresses"
        );
        let unlimited = ClientConnections::new(0);
        let held: Vec<_> = (0..1000).map(|_| unlimited.admit(a).unwrap()).collect();
        assert_eq!(held.len(), 1000);
    }
}
