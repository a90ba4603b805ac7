//! Outbound HTTP (`wasi:http/outgoing-handler`): wasmtime-wasi-http sends the
//! request, but only to hosts in the component's `allowed_outbound_hosts`; any
//! other destination is answered with `error-code.HTTP-request-denied`.

use std::sync::Arc;

use anyhow::Result;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpHooks};

use crate::capabilities::store::InstanceState;
use crate::capabilities::{Capability, InstanceField, Prepare};
use crate::grants::allowed_hosts::AllowedHosts;

/// App-wide outbound HTTP state: none (wasmtime-wasi-http opens a connection per request).
pub struct OutboundHttp;

impl Capability for OutboundHttp {
    type Config = ();
    type Instance = OutboundHttpInstance;

    /// Links wasi-http (`types` and `outgoing-handler`); it reaches this capability's instance
    /// state through `WasiHttpView`'s hooks, not through `field`.
    fn add_to_linker(linker: &mut Linker<InstanceState>, _: InstanceField<Self>) -> Result<()> {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        Ok(())
    }

    fn configure_app((): ()) -> Result<OutboundHttp> {
        Ok(OutboundHttp)
    }

    fn prepare(&self, cx: &Prepare<'_>) -> Result<OutboundHttpInstance> {
        Ok(OutboundHttpInstance {
            ctx: WasiHttpCtx::new(),
            hooks: AllowedHostsOnly::new(
                cx.grants.allowed_hosts.clone(),
                cx.grants.component.clone(),
            ),
        })
    }
}

/// Per-instance outbound HTTP state: wasi-http's own and the hooks it calls.
pub struct OutboundHttpInstance {
    pub ctx: WasiHttpCtx,
    pub hooks: AllowedHostsOnly,
}

/// The hooks wasmtime-wasi-http calls: a request goes out only to an allowed host.
#[derive(Clone)]
pub struct AllowedHostsOnly {
    allowed: Arc<AllowedHosts>,
    component: Arc<str>,
}

impl AllowedHostsOnly {
    pub fn new(allowed: Arc<AllowedHosts>, component: Arc<str>) -> Self {
        AllowedHostsOnly { allowed, component }
    }

    /// Whether the address `default_send_request` will dial for `uri` is allowed. It dials the
    /// URI's authority (never the `Host` header, which guests may not set: wasmtime-wasi-http
    /// forbids it by default), on its port or else 443 for `https` and 80 for anything else.
    /// An authority with userinfo (`allowed.example@evil.example`) is refused: what is dialled
    /// must be exactly the host that is checked.
    fn permits(&self, uri: &http::Uri) -> bool {
        let Some(authority) = uri.authority() else {
            return false;
        };
        if authority.as_str().contains('@') {
            return false;
        }
        let scheme = uri.scheme_str().unwrap_or("");
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        self.allowed.allows(scheme, authority.host(), port)
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for AllowedHostsOnly {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        if !self.permits(request.uri()) {
            tracing::warn!(
                component = %self.component,
                destination = %request.uri(),
                "outbound HTTP denied: destination not in allowed_outbound_hosts"
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(entries: &[&str]) -> AllowedHostsOnly {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHostsOnly::new(
            Arc::new(AllowedHosts::parse(&entries).unwrap()),
            Arc::from("test"),
        )
    }

    #[test]
    fn only_listed_destinations_are_permitted() {
        let i = instance(&["https://api.example.com", "http://127.0.0.1:8080"]);
        assert!(i.permits(&"https://api.example.com/x".parse().unwrap()));
        assert!(i.permits(&"http://127.0.0.1:8080/".parse().unwrap()));
        assert!(!i.permits(&"http://api.example.com/x".parse().unwrap()));
        assert!(!i.permits(&"https://evil.example.com/".parse().unwrap()));
        assert!(!i.permits(&"http://127.0.0.1:8081/".parse().unwrap()));
    }

    #[test]
    fn userinfo_cannot_redirect_the_connection() {
        let i = instance(&["https://api.example.com", "http://127.0.0.1:8080"]);
        for uri in [
            "https://api.example.com@evil.example.com/",
            "https://evil.example.com@api.example.com/",
            "http://user:pw@127.0.0.1:8080/",
        ] {
            assert!(!i.permits(&uri.parse().unwrap()), "{uri}");
        }
    }

    #[test]
    fn the_port_checked_is_the_port_dialled() {
        // Without a port, wasmtime dials 443 for https and 80 for every other scheme.
        let i = instance(&["wss://ws.example.com", "https://api.example.com"]);
        assert!(!i.permits(&"wss://ws.example.com/".parse().unwrap()));
        assert!(i.permits(&"wss://ws.example.com:443/".parse().unwrap()));
        assert!(i.permits(&"https://api.example.com/".parse().unwrap()));
        assert!(!i.permits(&"http://api.example.com:443/".parse().unwrap()));
        // No scheme, no authority: nothing to dial that was checked.
        assert!(!i.permits(&"/relative".parse().unwrap()));
    }

    #[test]
    fn guests_cannot_set_the_host_header() {
        let mut i = instance(&["*://*:*"]);
        assert!(i.is_forbidden_header(&http::header::HOST));
    }

    #[test]
    fn empty_allow_list_denies_everything() {
        let i = instance(&[]);
        assert!(!i.permits(&"https://example.com/".parse().unwrap()));
    }
}
