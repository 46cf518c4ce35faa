//! Benches of the container log decoders and the reassembler on real-shaped lines with
//! 200-byte messages (the LOGS hot path: 150 MiB/s per core is the budget). Criterion
//! reports both lines/s and bytes/s (as MiB/s) through its throughput settings.

use criterion::{black_box, Criterion, Throughput};
use nodepulse::agent::logs::decode::{cri, docker};
use nodepulse::agent::logs::reassemble::Reassembler;

/// A 200-byte application message (JSON, as many services log).
fn message() -> String {
    let m = r#"{"level":"info","ts":"2024-05-01T12:00:00.123Z","caller":"server/handler.go:142","msg":"request served","method":"GET","path":"/api/v1/items/12345","status":200,"duration_ms":12.5,"trace":"a1b2c3"}"#;
    format!("{m:<200}")
}

/// 1,000 CRI lines as containerd writes them: mostly full, every tenth split in two.
fn cri_lines() -> Vec<String> {
    let m = message();
    (0..1000)
        .flat_map(|i| {
            let ts = format!("2024-05-01T12:00:{:02}.{:09}Z", i % 60, i * 7919);
            if i % 10 == 0 {
                vec![
                    format!("{ts} stdout P {}", &m[..100]),
                    format!("{ts} stdout F {}", &m[100..]),
                ]
            } else {
                vec![format!("{ts} stdout F {m}")]
            }
        })
        .collect()
}

/// 1,000 docker json-file lines with the same messages (escaped, with the '\n').
fn docker_lines() -> Vec<String> {
    let m = message().replace('"', "\\\"");
    (0..1000)
        .map(|i| {
            let ts = format!("2024-05-01T12:00:{:02}.{:09}Z", i % 60, i * 7919);
            format!(r#"{{"log":"{m}\n","stream":"stdout","time":"{ts}"}}"#)
        })
        .collect()
}

/// One pass over `lines`, throughput in bytes (with each line's '\n'); lines/s is that
/// divided by the mean line length, which the bench name carries.
fn bench_lines(c: &mut Criterion, name: &str, lines: &[String], mut f: impl FnMut(&[u8])) {
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut g = c.benchmark_group("logs");
    g.throughput(Throughput::Bytes(bytes as u64));
    let name = format!("{name} {} lines of {} B", lines.len(), bytes / lines.len());
    g.bench_function(name, |b| {
        b.iter(|| lines.iter().for_each(|l| f(black_box(l.as_bytes()))))
    });
    g.finish();
}

pub fn benches(c: &mut Criterion) {
    let cri = cri_lines();
    let docker = docker_lines();
    bench_lines(c, "cri::decode", &cri, |l| {
        let _ = black_box(cri::decode(l));
    });
    bench_lines(c, "docker::decode", &docker, |l| {
        let _ = black_box(docker::decode(l));
    });
    let mut r = Reassembler::default();
    bench_lines(c, "cri::decode+reassemble", &cri, |l| {
        let d = cri::decode(l).expect("bench lines are valid");
        black_box(r.push(d));
    });
    let mut r = Reassembler::default();
    bench_lines(c, "docker::decode+reassemble", &docker, |l| {
        let d = docker::decode(l).expect("bench lines are valid");
        black_box(r.push(d));
    });
}
