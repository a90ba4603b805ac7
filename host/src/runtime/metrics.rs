//! Prometheus metrics for `spingraph up`, served as `/metrics` on the separate
//! `--admin-listen` address: requests by component and status class, request
//! latency and instantiation time histograms, and instance pool use.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wasmtime_wasi_http::io::TokioIo;

/// Upper bounds (seconds) of the histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if s <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += s;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Recorded {
    requests: BTreeMap<(String, &'static str), u64>,
    latency: BTreeMap<String, Histogram>,
    instantiation: BTreeMap<String, Histogram>,
}

/// Process-wide metrics, shared by the server and the admin listener.
#[derive(Default)]
pub struct Metrics {
    recorded: Mutex<Recorded>,
    in_flight: AtomicI64,
    pool_capacity: AtomicI64,
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    pub fn new(pool_capacity: usize) -> Arc<Metrics> {
        let m = Metrics::default();
        m.pool_capacity
            .store(pool_capacity as i64, Ordering::Relaxed);
        Arc::new(m)
    }

    /// A request finished with `status` (component `"-"` when no route matched).
    pub fn request(&self, component: &str, status: u16, latency: Duration) {
        let mut r = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        *r.requests
            .entry((component.to_string(), status_class(status)))
            .or_default() += 1;
        r.latency
            .entry(component.to_string())
            .or_default()
            .observe(latency);
    }

    pub fn instantiated(&self, component: &str, took: Duration) {
        let mut r = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        r.instantiation
            .entry(component.to_string())
            .or_default()
            .observe(took);
    }

    /// Counts an instance as live until the guard drops.
    pub fn instance_guard(self: &Arc<Self>) -> InstanceGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InstanceGuard(self.clone())
    }

    pub fn render(&self) -> String {
        let r = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP spingraph_requests_total HTTP requests by component and status class.\n",
        );
        out.push_str("# TYPE spingraph_requests_total counter\n");
        for ((component, class), n) in &r.requests {
            let _ = writeln!(
                out,
                "spingraph_requests_total{{component=\"{component}\",status_class=\"{class}\"}} {n}"
            );
        }
        out.push_str("# HELP spingraph_request_duration_seconds Time to the response headers.\n");
        out.push_str("# TYPE spingraph_request_duration_seconds histogram\n");
        for (component, h) in &r.latency {
            h.render(
                &mut out,
                "spingraph_request_duration_seconds",
                &format!("component=\"{component}\""),
            );
        }
        out.push_str("# HELP spingraph_instantiation_duration_seconds Time to instantiate a component for a request.\n");
        out.push_str("# TYPE spingraph_instantiation_duration_seconds histogram\n");
        for (component, h) in &r.instantiation {
            h.render(
                &mut out,
                "spingraph_instantiation_duration_seconds",
                &format!("component=\"{component}\""),
            );
        }
        out.push_str(
            "# HELP spingraph_instances_in_use Live component instances (pool slots in use).\n",
        );
        out.push_str("# TYPE spingraph_instances_in_use gauge\n");
        let _ = writeln!(
            out,
            "spingraph_instances_in_use {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out.push_str("# HELP spingraph_instances_capacity Concurrent request slots.\n");
        out.push_str("# TYPE spingraph_instances_capacity gauge\n");
        let _ = writeln!(
            out,
            "spingraph_instances_capacity {}",
            self.pool_capacity.load(Ordering::Relaxed)
        );
        out
    }
}

pub struct InstanceGuard(Arc<Metrics>);

impl Drop for InstanceGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `GET /metrics` on the admin listener until shutdown.
pub async fn serve_admin(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => return,
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move {
                        let resp = if req.uri().path() == "/metrics" {
                            let mut r = Response::new(Full::new(Bytes::from(metrics.render())));
                            r.headers_mut().insert(
                                header::CONTENT_TYPE,
                                http::HeaderValue::from_static("text/plain; version=0.0.4"),
                            );
                            r
                        } else {
                            let mut r =
                                Response::new(Full::new(Bytes::from_static(b"not found\n")));
                            *r.status_mut() = StatusCode::NOT_FOUND;
                            r
                        };
                        Ok::<_, Infallible>(resp)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_counters_histograms_and_pool_use() {
        let m = Metrics::new(8);
        m.request("health", 200, Duration::from_millis(3));
        m.request("health", 503, Duration::from_millis(30));
        m.instantiated("health", Duration::from_micros(200));
        let _g = m.instance_guard();
        let text = m.render();
        assert!(
            text.contains("spingraph_requests_total{component=\"health\",status_class=\"2xx\"} 1")
        );
        assert!(
            text.contains("spingraph_requests_total{component=\"health\",status_class=\"5xx\"} 1")
        );
        assert!(text.contains(
            "spingraph_request_duration_seconds_bucket{component=\"health\",le=\"+Inf\"} 2"
        ));
        assert!(
            text.contains("spingraph_instantiation_duration_seconds_count{component=\"health\"} 1")
        );
        assert!(text.contains("spingraph_instances_in_use 1"));
        assert!(text.contains("spingraph_instances_capacity 8"));
    }
}
