//! The HTTP trigger: accepts connections, routes each request, runs it in a fresh
//! instance of the matched component under the request limits (body cap,
//! concurrency cap, deadline), and turns any failure into a problem+json answer
//! for that request alone. Shuts down gracefully (stop accepting, drain).
//!
//! The network is never waited on while an instance slot is held: headers are read under
//! hyper's header-read timeout, the whole body under the body-read timeout, and only then is a
//! slot taken; each client address may hold a bounded number of connections. So slow or
//! numerous connections from one client cannot starve the others (issue 13, item 1).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use arc_swap::ArcSwap;
use http::{HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioTimer;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use spingraph_identity::request_id::is_valid as is_valid_request_id;

use crate::capabilities::Capabilities;
use crate::capabilities::store::InstanceState;
use crate::grants::Grants;
use crate::runtime::access_log::AccessRecord;
use crate::runtime::client_connections::ClientConnections;
use crate::runtime::failure::HostFailure;
use crate::runtime::metrics::Metrics;
use crate::runtime::router::Router;

/// Limits applied to each request and connection.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// From the whole body's arrival to the response's head (slot wait included).
    pub timeout: Duration,
    /// From the response's head to the end of its body: how long a component may go on
    /// writing a streamed body (an export) after answering.
    pub stream_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_memory_bytes: usize,
    pub max_concurrent: usize,
    /// For the request line and headers (and an idle keep-alive connection).
    pub header_read_timeout: Duration,
    /// For the whole request body, before a slot is taken.
    pub body_read_timeout: Duration,
    /// Open connections per client IP; 0 means no limit.
    pub max_connections_per_client: usize,
}

/// How long a connection refused for its client's connection cap may take to send its
/// request head before it is dropped without an answer.
const REFUSED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// A component ready to serve: pre-instantiated, plus what each instance is granted.
pub struct ServedComponent {
    pub id: Arc<str>,
    /// Of the wasm it was compiled from (composed with its dependencies).
    pub digest: crate::runtime::engine::WasmDigest,
    pub pre: ProxyPre<InstanceState>,
    pub grants: Arc<Grants>,
}

/// The routed components by id. Each one can be replaced while serving (`up --watch`): a request
/// takes the `Arc` current when it is routed and holds it until it has answered, so a swap
/// never disturbs a request in flight and the old version is freed after its last request.
pub struct Components(HashMap<String, ArcSwap<ServedComponent>>);

impl Components {
    pub fn new(loaded: HashMap<String, ServedComponent>) -> Components {
        Components(
            loaded
                .into_iter()
                .map(|(id, component)| (id, ArcSwap::from_pointee(component)))
                .collect(),
        )
    }

    /// The version of component `id` that new requests get.
    pub fn get(&self, id: &str) -> Option<Arc<ServedComponent>> {
        self.0.get(id).map(ArcSwap::load_full)
    }

    /// Makes `component` the version new requests get; false (and nothing replaced) when no
    /// routed component has its id.
    pub fn replace(&self, component: ServedComponent) -> bool {
        match self.0.get(&*component.id) {
            Some(slot) => {
                slot.store(Arc::new(component));
                true
            }
            None => false,
        }
    }
}

pub struct Server {
    pub router: Router,
    pub components: Arc<Components>,
    pub capabilities: Arc<Capabilities>,
    pub limits: RequestLimits,
    pub metrics: Arc<Metrics>,
    permits: Arc<Semaphore>,
}

impl Server {
    pub fn new(
        router: Router,
        components: Arc<Components>,
        capabilities: Arc<Capabilities>,
        limits: RequestLimits,
        metrics: Arc<Metrics>,
    ) -> Server {
        Server {
            router,
            components,
            capabilities,
            limits,
            metrics,
            permits: Arc::new(Semaphore::new(limits.max_concurrent)),
        }
    }

    /// Serves until `shutdown` fires, then stops accepting and drains open
    /// connections for up to `drain`.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
        drain: Duration,
    ) -> Result<()> {
        let mut connections = JoinSet::new();
        let per_client = ClientConnections::new(self.limits.max_connections_per_client);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, client) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let server = self.clone();
                    let Some(admitted) = per_client.admit(client.ip()) else {
                        connections.spawn(server.refuse(stream, client));
                        while connections.try_join_next().is_some() {}
                        continue;
                    };
                    let mut conn_shutdown = shutdown.clone();
                    connections.spawn(async move {
                        let _admitted = admitted;
                        let header_read_timeout = server.limits.header_read_timeout;
                        let service = hyper::service::service_fn(move |req| {
                            let server = server.clone();
                            async move { Ok::<_, Infallible>(server.handle(req, client).await) }
                        });
                        let conn = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .timer(TokioTimer::new())
                            .header_read_timeout(header_read_timeout)
                            .serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(conn);
                        tokio::select! {
                            res = conn.as_mut() => {
                                if let Err(e) = res {
                                    tracing::debug!(error = %e, %client, "connection error");
                                }
                            }
                            _ = stopped(&mut conn_shutdown) => {
                                conn.as_mut().graceful_shutdown();
                                let _ = conn.await;
                            }
                        }
                    });
                    while connections.try_join_next().is_some() {}
                }
                _ = stopped(&mut shutdown) => break,
            }
        }
        drop(listener);
        tracing::info!(
            open_connections = connections.len(),
            "shutting down: draining in-flight requests"
        );
        if tokio::time::timeout(drain, async {
            while connections.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!(
                remaining = connections.len(),
                "drain timeout: closing remaining connections"
            );
            connections.abort_all();
        }
        Ok(())
    }

    /// Answers the first request of a connection over its client's cap with 429 and closes it,
    /// waiting only briefly for that request.
    async fn refuse(self: Arc<Self>, stream: tokio::net::TcpStream, client: SocketAddr) {
        tracing::warn!(%client, limit = self.limits.max_connections_per_client, "connection refused: client holds too many connections");
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let metrics = self.metrics.clone();
            async move {
                let request_id = request_id(req.headers());
                let path = req.uri().path().to_string();
                let resp = HostFailure::TooManyConnections.response(&path, &request_id);
                AccessRecord::new(
                    &request_id,
                    req.method().as_str(),
                    &path,
                    None,
                    None,
                    resp.status().as_u16(),
                    Duration::ZERO,
                )
                .emit();
                metrics.request("-", resp.status().as_u16(), Duration::ZERO);
                Ok::<_, Infallible>(resp)
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .keep_alive(false)
            .timer(TokioTimer::new())
            .header_read_timeout(REFUSED_HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, %client, "refused connection error");
        }
    }

    /// Answers one request. Never fails: every error becomes a problem+json response.
    pub async fn handle(
        self: Arc<Self>,
        mut req: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        let start = Instant::now();
        let request_id = request_id(req.headers());
        let method = req.method().to_string();
        let path = req.uri().path().to_string();

        let Some(matched) = self.router.route(&path) else {
            let resp = HostFailure::NoRoute.response(&path, &request_id);
            let (status, elapsed) = (resp.status().as_u16(), start.elapsed());
            AccessRecord::new(&request_id, &method, &path, None, None, status, elapsed).emit();
            self.metrics.request("-", status, elapsed);
            return resp;
        };
        let component_id = matched.component.to_string();
        let raw_route = matched.raw_route.to_string();
        let full_url = full_url(&req);
        let client_addr = client.to_string();
        let spin_headers = matched.spin_headers(&full_url, &client_addr);

        let resp = match self.components.get(&component_id) {
            Some(component) => {
                let headers = req.headers_mut();
                headers.remove(header::HOST);
                for (name, value) in spin_headers {
                    if let (Ok(name), Ok(value)) = (
                        http::HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(&value),
                    ) {
                        headers.insert(name, value);
                    }
                }
                if let Ok(v) = HeaderValue::from_str(&request_id) {
                    headers.insert("x-request-id", v);
                }
                // wasi-http wants the authority in the URI once `host` is gone.
                if let Ok(uri) = full_url.parse() {
                    *req.uri_mut() = uri;
                }
                self.clone()
                    .run_component(component, req, &request_id)
                    .await
            }
            None => Err(HostFailure::ComponentNotLoaded),
        };
        let mut resp = resp.unwrap_or_else(|failure| failure.response(&path, &request_id));
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        AccessRecord::new(
            &request_id,
            &method,
            &path,
            Some(&raw_route),
            Some(&component_id),
            resp.status().as_u16(),
            start.elapsed(),
        )
        .emit();
        self.metrics
            .request(&component_id, resp.status().as_u16(), start.elapsed());
        resp
    }

    /// Runs `req` in a fresh instance of `component`, under the request limits.
    async fn run_component(
        self: Arc<Self>,
        component: Arc<ServedComponent>,
        req: Request<Incoming>,
        request_id: &str,
    ) -> Result<Response<HyperOutgoingBody>, HostFailure> {
        // Body cap: the whole body is read (up to the cap, under its deadline) before a slot is
        // taken, so a client that trickles its body holds a connection, never an instance slot.
        let too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > self.limits.max_body_bytes as u64);
        if too_large {
            return Err(HostFailure::BodyTooLarge);
        }
        let (parts, body) = req.into_parts();
        let collected = tokio::time::timeout(
            self.limits.body_read_timeout,
            Limited::new(body, self.limits.max_body_bytes).collect(),
        )
        .await;
        let body = match collected {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(HostFailure::BodyTooLarge);
            }
            Ok(Err(_)) => return Err(HostFailure::BodyUnreadable),
            Err(_) => {
                tracing::warn!(
                    request_id,
                    component = %component.id,
                    timeout_ms = self.limits.body_read_timeout.as_millis() as u64,
                    "request body not received in time"
                );
                return Err(HostFailure::BodyTimedOut);
            }
        };

        let deadline = Arc::new(Deadline::new(self.limits.timeout));
        // Concurrency cap: wait for a slot, but never beyond the request deadline.
        let permit =
            tokio::time::timeout(self.limits.timeout, self.permits.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(HostFailure::AtConcurrencyLimit)?;

        let req = Request::from_parts(parts, Full::new(body));

        let mut store = self.new_store(&component, deadline.clone()).map_err(|e| {
            tracing::error!(request_id, component = %component.id, error = format!("{e:#}"), "cannot prepare instance");
            HostFailure::CannotPrepareInstance
        })?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = (|| -> wasmtime::Result<_> {
            let req = store
                .data_mut()
                .http()
                .new_incoming_request(Scheme::Http, req)?;
            let out = store.data_mut().http().new_response_outparam(sender)?;
            Ok((req, out))
        })();
        let (wasi_req, out) = prepared.map_err(|e| {
            tracing::error!(request_id, component = %component.id, error = format!("{e:#}"), "cannot pass the request to the component");
            HostFailure::CannotPassRequest
        })?;

        let pre = component.pre.clone();
        let metrics = self.metrics.clone();
        let id = component.id.clone();
        let task = tokio::spawn(async move {
            let _permit = permit;
            let _live = metrics.instance_guard();
            let t = Instant::now();
            let proxy = pre.instantiate_async(&mut store).await?;
            metrics.instantiated(&id, t.elapsed());
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, wasi_req, out)
                .await
        });
        let abort = task.abort_handle();

        match tokio::time::timeout(deadline.remaining(), receiver).await {
            Ok(Ok(Ok(resp))) => {
                // The head is out; what is left is the body, which may stream for longer.
                deadline.extend(self.limits.stream_timeout);
                Ok(resp)
            }
            Ok(Ok(Err(code))) => {
                tracing::warn!(request_id, component = %component.id, error = ?code, "component answered with an error code");
                Err(HostFailure::ComponentErrorCode)
            }
            Ok(Err(_)) => {
                // The guest finished (or died) without setting a response.
                let err = match task.await {
                    Ok(Ok(())) => wasmtime::Error::msg("guest returned without setting a response"),
                    Ok(Err(e)) => e,
                    Err(e) => wasmtime::Error::msg(format!("component task failed: {e}")),
                };
                let timed_out = err.downcast_ref::<Trap>() == Some(&Trap::Interrupt);
                tracing::error!(request_id, component = %component.id, error = format!("{err:#}"), "component failed");
                Err(if timed_out {
                    HostFailure::DeadlineExceeded
                } else {
                    HostFailure::ComponentFailed
                })
            }
            Err(_) => {
                abort.abort();
                tracing::error!(request_id, component = %component.id, timeout_ms = self.limits.timeout.as_millis() as u64, "request deadline exceeded");
                Err(HostFailure::DeadlineExceeded)
            }
        }
    }

    fn new_store(
        &self,
        component: &ServedComponent,
        deadline: Arc<Deadline>,
    ) -> Result<Store<InstanceState>> {
        let state = InstanceState::new(
            &self.capabilities,
            &component.grants,
            self.limits.max_memory_bytes,
        )?;
        let mut store = Store::new(component.pre.engine(), state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        // Yield to other tasks every tick; trap once the request's deadline has passed.
        store.epoch_deadline_callback(move |_| {
            if deadline.passed() {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok(store)
    }
}

/// When an instance must stop: the request's time limit until the response's head is out,
/// then the stream limit (both measured from the moment they start). The epoch callback reads
/// it on every tick; the server moves it once, when the head arrives.
pub struct Deadline {
    start: Instant,
    /// Milliseconds after `start`.
    at_ms: AtomicU64,
}

impl Deadline {
    pub fn new(limit: Duration) -> Deadline {
        Deadline {
            start: Instant::now(),
            at_ms: AtomicU64::new(limit.as_millis() as u64),
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn passed(&self) -> bool {
        self.now_ms() >= self.at_ms.load(Ordering::Relaxed)
    }

    pub fn remaining(&self) -> Duration {
        Duration::from_millis(
            self.at_ms
                .load(Ordering::Relaxed)
                .saturating_sub(self.now_ms()),
        )
    }

    /// The deadline is now `limit` from now.
    pub fn extend(&self, limit: Duration) {
        self.at_ms
            .store(self.now_ms() + limit.as_millis() as u64, Ordering::Relaxed);
    }
}

/// Resolves once shutdown has been requested (or the sender is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Keeps a valid incoming `x-request-id` (`[A-Za-z0-9._-]{1,128}`), else makes one.
pub fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_valid_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

fn full_url<B>(req: &Request<B>) -> String {
    let host = req
        .uri()
        .authority()
        .map(|a| a.to_string())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "localhost".to_string());
    let pq = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    format!("http://{host}{pq}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_incoming_request_id_is_kept() {
        let mut h = http::HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc-123_x.y"));
        assert_eq!(request_id(&h), "abc-123_x.y");
    }

    #[test]
    fn invalid_or_missing_request_id_is_replaced() {
        let mut h = http::HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("bad id!"));
        let id = request_id(&h);
        assert_ne!(id, "bad id!");
        assert!(is_valid_request_id(&id));
        assert!(is_valid_request_id(&request_id(&http::HeaderMap::new())));
        assert!(!is_valid_request_id(&"a".repeat(129)));
        assert!(!is_valid_request_id(""));
    }

    #[test]
    fn a_deadline_passes_at_its_limit_and_the_head_moves_it() {
        let deadline = Deadline::new(Duration::ZERO);
        assert!(deadline.passed());
        assert_eq!(deadline.remaining(), Duration::ZERO);
        deadline.extend(Duration::from_secs(600));
        assert!(!deadline.passed());
        assert!(deadline.remaining() > Duration::from_secs(590));
        let request = Deadline::new(Duration::from_secs(30));
        request.extend(Duration::ZERO);
        assert!(
            request.passed(),
            "a stream limit of 0 ends the instance at the head"
        );
    }
}
