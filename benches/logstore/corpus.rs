//! A seeded Kubernetes log corpus: each stream is one container writing one kind of log
//! — nginx access (combined format), envoy access (its default format), JSON app logs
//! with repeated keys, klog (`I1206 ...` control-plane style) or Java (log4j lines,
//! one in 20 an exception with a 10–25-frame stack trace as one entry). Client IPs,
//! paths, user agents, upstreams, users and messages come from fixed pools; request and
//! trace ids are random hex, latencies and sizes random. Times advance 1–200 ms per line.

use nodepulse::aggregator::model::logs::{LogEntry, PushStream};
use nodepulse::aggregator::model::Labels;
use std::fmt::Write;

#[allow(dead_code)] // the bench uses part of it
#[path = "../../tests/common/rng.rs"]
mod rng;
pub use rng::Rng;

const PATHS: &[&str] = &[
    "/",
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v1/orders/checkout",
    "/healthz",
    "/metrics",
    "/static/js/app.3f9a1c.js",
    "/static/css/main.css",
    "/login",
    "/api/v2/search",
    "/api/v1/cart/items",
    "/favicon.ico",
    "/api/v1/payments/authorize",
    "/graphql",
];
const AGENTS: &[&str] = &["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "kube-probe/1.29", "Prometheus/2.48.0", "curl/8.4.0", "Go-http-client/1.1", "python-requests/2.31.0"];
const STATUS: &[&str] = &[
    "200", "200", "200", "200", "200", "201", "204", "301", "304", "400", "401", "404", "500",
    "503",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const MESSAGES: &[&str] = &[
    "request completed",
    "cache miss",
    "user authenticated",
    "order created",
    "payment authorized",
    "retrying upstream call",
    "connection pool exhausted",
    "slow query detected",
    "config reloaded",
    "rate limit exceeded",
];
const LEVELS: &[&str] = &["info", "info", "info", "info", "debug", "warn", "error"];
const KLOG: &[&str] = &[
    "Successfully synced",
    "Updating pod status",
    "Observed a panic",
    "Starting reflector",
    "SyncLoop (PLEG): event for pod",
    "Volume is already mounted to pod",
    "Killing container with a grace period",
];
const JAVA: &[&str] = &[
    "c.e.shop.OrderService",
    "c.e.shop.PaymentClient",
    "o.h.engine.jdbc.spi.SqlExceptionHelper",
    "o.s.web.servlet.DispatcherServlet",
    "c.z.hikari.pool.HikariPool",
];
const FRAMES: &[&str] = &[
    "com.example.shop.OrderService.place(OrderService.java:142)",
    "com.example.shop.PaymentClient.authorize(PaymentClient.java:88)",
    "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)",
    "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
    "org.hibernate.engine.jdbc.spi.SqlExceptionHelper.convert(SqlExceptionHelper.java:64)",
];

fn ip(r: &mut Rng, out: &mut String) {
    let n = r.below(300);
    let _ = write!(out, "10.{}.{}.{}", n % 7, n / 7 % 40, 10 + n % 200);
}

fn hex(r: &mut Rng, digits: usize, out: &mut String) {
    for _ in 0..digits.div_ceil(16) {
        let _ = write!(out, "{:016x}", r.next());
    }
    out.truncate(out.len() - (digits.div_ceil(16) * 16 - digits));
}

/// One line of stream kind `kind` (0..5) at time `ts`.
pub fn line(kind: u64, r: &mut Rng, ts: i64, out: &mut String) {
    out.clear();
    let (secs, ms) = (ts / 1_000_000_000, ts / 1_000_000 % 1000);
    match kind {
        0 => {
            ip(r, out);
            let _ = write!(out, " - - [06/Dec/2026:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" {}.{:03}", secs / 3600 % 24, secs / 60 % 60, secs % 60, r.pick(METHODS), r.pick(PATHS), r.pick(STATUS), r.below(50_000), r.pick(AGENTS), r.below(3), r.below(1000));
        }
        1 => {
            let _ = write!(out, "[2026-12-06T{:02}:{:02}:{:02}.{ms:03}Z] \"{} {} HTTP/2\" {} - via_upstream - \"-\" {} {} {} {} \"", secs / 3600 % 24, secs / 60 % 60, secs % 60, r.pick(METHODS), r.pick(PATHS), r.pick(STATUS), r.below(4000), r.below(90_000), r.below(800), r.below(700));
            ip(r, out);
            let _ = write!(out, "\" \"{}\" \"", r.pick(AGENTS));
            hex(r, 8, out);
            out.push('-');
            hex(r, 4, out);
            let _ = write!(
                out,
                "\" \"checkout.shop.svc:8080\" \"10.1.{}.{}:8080\"",
                r.below(8),
                r.below(250)
            );
        }
        2 => {
            let _ = write!(out, "{{\"ts\":\"2026-12-06T{:02}:{:02}:{:02}.{ms:03}Z\",\"level\":\"{}\",\"logger\":\"{}\",\"msg\":\"{}\",\"trace_id\":\"", secs / 3600 % 24, secs / 60 % 60, secs % 60, r.pick(LEVELS), r.pick(JAVA), r.pick(MESSAGES));
            hex(r, 32, out);
            let _ = write!(
                out,
                "\",\"user_id\":{},\"duration_ms\":{},\"path\":\"{}\"}}",
                r.below(5000),
                r.below(2500),
                r.pick(PATHS)
            );
        }
        3 => {
            let _ = write!(out, "I1206 {:02}:{:02}:{:02}.{ms:03}{:03}       1 kubelet.go:{}] \"{}\" pod=\"shop/checkout-7d9f8b6c4-{}\" podUID=\"", secs / 3600 % 24, secs / 60 % 60, secs % 60, r.below(1000), 1000 + r.below(2000), r.pick(KLOG), r.below(40));
            hex(r, 8, out);
            out.push('"');
        }
        _ => java(r, secs, ms, out),
    }
}

fn java(r: &mut Rng, secs: i64, ms: i64, out: &mut String) {
    let level = if r.below(20) == 0 { "ERROR" } else { "INFO " };
    let _ = write!(
        out,
        "2026-12-06 {:02}:{:02}:{:02}.{ms:03} {level} 1 --- [nio-8080-exec-{}] {} : {} orderId={}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        r.below(10),
        r.pick(JAVA),
        r.pick(MESSAGES),
        r.below(1_000_000)
    );
    if level == "ERROR" {
        out.push_str("\njava.lang.IllegalStateException: payment declined for order ");
        hex(r, 12, out);
        for _ in 0..10 + r.below(16) {
            let _ = write!(out, "\n\tat {}", r.pick(FRAMES));
        }
    }
}

/// Stream `i`'s labels (a pod's container) and its log kind.
pub fn stream(i: u64) -> (Labels, u64) {
    let ns = ["shop", "payments", "kube-system", "monitoring", "search"][(i % 5) as usize];
    let kind = i % 5;
    let app = ["nginx", "envoy", "api", "kubelet", "orders"][kind as usize];
    let pod = format!("{app}-{:x}-{}", 0x5f00 + i / 5, i % 7);
    let labels = Labels::from_pairs(&[
        ("namespace", ns),
        ("pod", &pod),
        ("container", app),
        ("app", app),
        ("node", "node-3"),
        ("stream", "stdout"),
    ]);
    (labels, kind)
}

/// Generates pushes: `per_push` entries for each of `streams` streams (from `first`).
pub struct Corpus {
    rng: Rng,
    pub ts: i64,
    buf: String,
}

impl Corpus {
    pub fn new(seed: u64, ts: i64) -> Self {
        Corpus {
            rng: Rng::new(seed),
            ts,
            buf: String::new(),
        }
    }

    pub fn push(
        &mut self,
        streams: std::ops::Range<u64>,
        per_push: usize,
    ) -> (Vec<PushStream>, u64) {
        let mut raw = 0;
        let out = streams
            .map(|i| {
                let (labels, kind) = stream(i);
                let entries = (0..per_push)
                    .map(|_| {
                        self.ts += 1_000_000 + self.rng.below(200_000_000) as i64 / 50;
                        line(kind, &mut self.rng, self.ts, &mut self.buf);
                        raw += self.buf.len() as u64;
                        LogEntry {
                            ts: self.ts,
                            line: self.buf.clone(),
                            metadata: vec![],
                        }
                    })
                    .collect();
                PushStream { labels, entries }
            })
            .collect();
        (out, raw)
    }
}
