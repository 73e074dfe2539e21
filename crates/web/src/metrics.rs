//! Request metrics in Prometheus text format: requests by route and status, latency
//! histograms by route, and the page cache's hits and misses. Routes are a fixed, small
//! set of names (never raw paths), so the label space stays bounded.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The status codes counted one by one; anything outside (never sent by this server) is
/// counted as the nearest edge.
const FIRST_STATUS: u16 = 100;
const STATUSES: usize = 500;

/// Which route answered; handlers put it in the response's extensions.
#[derive(Debug, Clone, Copy)]
pub struct RouteName(pub &'static str);

/// One route's counters. Every request updates them with atomic additions only: under a
/// spike both cores record at once, and a lock here was measurable on a cached page.
struct RouteStats {
    statuses: [AtomicU64; STATUSES],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Default for RouteStats {
    fn default() -> Self {
        RouteStats {
            statuses: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    /// Written once per route name (a small fixed set), read on every request.
    routes: RwLock<HashMap<&'static str, Box<RouteStats>>>,
}

impl RouteStats {
    fn add(&self, status: u16, elapsed: Duration) {
        let slot = usize::from(status.saturating_sub(FIRST_STATUS)).min(STATUSES - 1);
        self.statuses[slot].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        // Cumulative buckets: a request counts in every bucket whose bound it is under.
        let secs = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(self.buckets.iter()) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Metrics {
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        if let Ok(routes) = self.routes.read()
            && let Some(stats) = routes.get(route)
        {
            stats.add(status, elapsed);
            return;
        }
        if let Ok(mut routes) = self.routes.write() {
            routes.entry(route).or_default().add(status, elapsed);
        }
    }

    /// The exposition text; `extra` are gauges and counters owned elsewhere.
    pub fn render(&self, extra: &[(&str, &str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP newsdesk_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE newsdesk_http_requests_total counter\n");
        let routes = self
            .routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut routes: Vec<_> = routes.iter().collect();
        routes.sort_unstable_by_key(|(name, _)| **name);
        for (route, stats) in &routes {
            for (slot, count) in stats.statuses.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let status = usize::from(FIRST_STATUS) + slot;
                    let _ = writeln!(
                        out,
                        "newsdesk_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                    );
                }
            }
        }
        out.push_str("# HELP newsdesk_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE newsdesk_http_request_duration_seconds histogram\n");
        for (route, stats) in &routes {
            for (bound, count) in BUCKETS.iter().zip(stats.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "newsdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    count.load(Ordering::Relaxed)
                );
            }
            let _ = writeln!(
                out,
                "newsdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                stats.count.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                out,
                "newsdesk_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                stats.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
            );
            let _ = writeln!(
                out,
                "newsdesk_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                stats.count.load(Ordering::Relaxed)
            );
        }
        for (name, kind, help, value) in extra {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_records_are_all_counted() {
        let metrics = Metrics::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..1000u64 {
                        let status = if i % 10 == 0 { 404 } else { 200 };
                        metrics.record("story", status, Duration::from_micros(i));
                    }
                });
            }
        });
        let text = metrics.render(&[]);
        assert!(
            text.contains("newsdesk_http_requests_total{route=\"story\",status=\"200\"} 3600\n")
        );
        assert!(
            text.contains("newsdesk_http_requests_total{route=\"story\",status=\"404\"} 400\n")
        );
        assert!(
            text.contains("newsdesk_http_request_duration_seconds_count{route=\"story\"} 4000\n")
        );
        // 0..1000 µs: every request is under the 1 ms bucket, half of them under 0.5 ms.
        assert!(text.contains(
            "newsdesk_http_request_duration_seconds_bucket{route=\"story\",le=\"0.0005\"} 2004\n"
        ));
        assert!(text.contains(
            "newsdesk_http_request_duration_seconds_bucket{route=\"story\",le=\"0.001\"} 4000\n"
        ));
    }
}
