//! Container log files as kubelet lays them out, for the log pipeline's end-to-end
//! tests: a temp pods dir with `<namespace>_<pod>_<uid>/<container>/0.log` files written
//! in the CRI format, and what each container wrote, to compare with what arrived.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The agent's directories, under one temp dir the caller keeps.
#[derive(Clone)]
pub struct Dirs {
    pub pods: PathBuf,
    pub containers: PathBuf,
    pub data: PathBuf,
}

impl Dirs {
    pub fn new(tmp: &Path) -> Dirs {
        let d = Dirs {
            pods: tmp.join("pods"),
            containers: tmp.join("containers"),
            data: tmp.join("data"),
        };
        for dir in [&d.pods, &d.containers, &d.data] {
            fs::create_dir_all(dir).unwrap();
        }
        d
    }

    /// The agent flags that point it at these directories.
    pub fn args(&self) -> Vec<String> {
        vec![
            format!("--logs.pods-dir={}", self.pods.display()),
            format!("--logs.containers-dir={}", self.containers.display()),
            format!("--data-dir={}", self.data.display()),
        ]
    }
}

/// One line written: its CRI timestamp, stream and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub timestamp: String,
    pub stream: &'static str,
    pub message: String,
}

/// One container of a test: where its log is and every line written to it so far.
pub struct Container {
    pub namespace: &'static str,
    pub pod: &'static str,
    pub uid: &'static str,
    pub name: &'static str,
    dir: PathBuf,
    pub written: Vec<Line>,
    /// The day every line is stamped on (`YYYY-MM-DD`).
    day: String,
}

impl Container {
    pub fn new(
        pods: &Path,
        (namespace, pod, uid): (&'static str, &'static str, &'static str),
        name: &'static str,
    ) -> Container {
        let dir = pods.join(format!("{namespace}_{pod}_{uid}")).join(name);
        fs::create_dir_all(&dir).unwrap();
        File::create(dir.join("0.log")).unwrap();
        Container {
            namespace,
            pod,
            uid,
            name,
            dir,
            written: Vec::new(),
            day: "2024-01-01".into(),
        }
    }

    /// Stamps lines on yesterday (UTC) instead of 2024-01-01: recent enough for a
    /// receiver that refuses old entries, as Loki's does (a week by default).
    pub fn stamped_yesterday(mut self) -> Container {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let (y, m, d) = nodepulse::civil::civil(now.as_secs() as i64 / 86_400 - 1);
        self.day = format!("{y:04}-{m:02}-{d:02}");
        self
    }

    /// Appends `n` lines "<name> line <i>", alternating stdout and stderr; every
    /// seventh is split by the runtime into a P and an F piece.
    pub fn write(&mut self, n: usize) {
        let lines: Vec<Line> = (0..n)
            .map(|k| {
                let i = self.written.len() + k;
                let stream = if i % 2 == 0 { "stdout" } else { "stderr" };
                self.line(i, stream, format!("{} line {i}", self.name))
            })
            .collect();
        self.append(lines);
    }

    /// Appends one message on `stream`.
    pub fn write_message(&mut self, stream: &'static str, message: &str) {
        let line = self.line(self.written.len(), stream, message.to_owned());
        self.append(vec![line]);
    }

    /// Line `i`: a distinct timestamp on the container's day (nanoseconds = i).
    fn line(&self, i: usize, stream: &'static str, message: String) -> Line {
        let (day, m, s) = (&self.day, (i / 60) % 60, i % 60);
        let timestamp = format!("{day}T00:{m:02}:{s:02}.{i:09}Z");
        Line {
            timestamp,
            stream,
            message,
        }
    }

    fn append(&mut self, lines: Vec<Line>) {
        let mut out = String::new();
        for (k, l) in lines.iter().enumerate() {
            let (ts, s, m) = (&l.timestamp, l.stream, &l.message);
            let i = self.written.len() + k;
            if i % 7 == 3 && m.len() > 4 {
                let (a, b) = m.split_at(4);
                out.push_str(&format!("{ts} {s} P {a}\n{ts} {s} F {b}\n"));
            } else {
                out.push_str(&format!("{ts} {s} F {m}\n"));
            }
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.dir.join("0.log"))
            .unwrap();
        f.write_all(out.as_bytes()).unwrap();
        f.sync_all().unwrap();
        self.written.extend(lines);
    }

    /// The messages written to `stream`, in order.
    pub fn expected(&self, stream: &str) -> Vec<String> {
        self.written
            .iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.message.clone())
            .collect()
    }

    /// The line whose message is `message`.
    pub fn find(&self, message: &str) -> Option<&Line> {
        self.written.iter().find(|l| l.message == message)
    }
}
