//! Request metrics in Prometheus text format: requests by route and status, latency
//! histograms by route, and the page cache's hits and misses. Routes are a fixed, small
//! set of names (never raw paths), so the label space stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Which route answered; handlers put it in the response's extensions.
#[derive(Debug, Clone, Copy)]
pub struct RouteName(pub &'static str);

#[derive(Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Latency>>,
}

impl Metrics {
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route, status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut l) = self.latency.lock() {
            let entry = l.entry(route).or_default();
            entry.count += 1;
            entry.sum += secs;
            for (bound, count) in BUCKETS.iter().zip(entry.buckets.iter_mut()) {
                if secs <= *bound {
                    *count += 1;
                }
            }
        }
    }

    /// The exposition text; `extra` are gauges and counters owned elsewhere.
    pub fn render(&self, extra: &[(&str, &str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP newsdesk_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE newsdesk_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), count) in r.iter() {
                let _ = writeln!(
                    out,
                    "newsdesk_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str("# HELP newsdesk_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE newsdesk_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, lat) in l.iter() {
                for (bound, count) in BUCKETS.iter().zip(lat.buckets.iter()) {
                    let _ = writeln!(
                        out,
                        "newsdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "newsdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    lat.count
                );
                let _ = writeln!(
                    out,
                    "newsdesk_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    lat.sum
                );
                let _ = writeln!(
                    out,
                    "newsdesk_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    lat.count
                );
            }
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
