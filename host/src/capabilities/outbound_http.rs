//! Outbound HTTP (`wasi:http/outgoing-handler`): wasmtime-wasi-http sends the
//! request, but only to hosts in the component's `allowed_outbound_hosts`; any
//! other destination is answered with `error-code.HTTP-request-denied`.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::{AllowedHosts, default_port};

/// Per-instance outbound HTTP state: the hooks wasmtime-wasi-http calls.
#[derive(Clone)]
pub struct OutboundHttpInstance {
    allowed: Arc<AllowedHosts>,
    component: Arc<str>,
}

impl OutboundHttpInstance {
    pub fn new(allowed: Arc<AllowedHosts>, component: Arc<str>) -> Self {
        OutboundHttpInstance { allowed, component }
    }

    fn permits(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else {
            return false;
        };
        let Some(port) = uri.port_u16().or_else(|| default_port(scheme)) else {
            return false;
        };
        self.allowed.allows(scheme, host, port)
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

impl WasiHttpHooks for OutboundHttpInstance {
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

    fn instance(entries: &[&str]) -> OutboundHttpInstance {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        OutboundHttpInstance::new(
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
    fn empty_allow_list_denies_everything() {
        let i = instance(&[]);
        assert!(!i.permits(&"https://example.com/".parse().unwrap()));
    }
}
