//! The end of a case of the model-based rotation test: the receiver's entries and the
//! agent's counters checked against the model, and the failure report (seed, settings,
//! files, requests, last operations).

use super::Case;

impl Case<'_> {
    pub(super) fn check(&self) {
        let missing = self.delivered.missing(&self.node);
        if !self.delivered.faults.is_empty() || !missing.is_empty() {
            self.fail("the receiver did not get exactly what was written");
        }
        let (mut sent, mut rotations, mut truncations, mut requests, mut retries) = (0, 0, 0, 0, 0);
        for m in &self.metrics {
            let (tail, process, send) = (m.tail(), m.process(), m.send());
            let loki = send.sinks.get("loki").cloned().unwrap_or_default();
            let sound = tail.files_let_go == 0
                && process.decode_errors.is_empty()
                && process.truncated == 0
                && process.incomplete.values().all(|&n| n == 0)
                && loki.dropped.values().all(|&n| n == 0);
            if !sound {
                self.fail(&format!("counters: {tail:?} {process:?} {loki:?}"));
            }
            sent += loki.events_sent;
            (rotations, truncations) = (rotations + tail.rotations, truncations + tail.truncations);
            (requests, retries) = (requests + loki.requests, retries + loki.retries);
        }
        if sent != self.node.messages.len() as u64 {
            self.fail(&format!("{sent} events sent"));
        }
        eprintln!(
            "logs_model: seed {}: {} messages in {} files, {} agent runs, {requests} requests \
             ({retries} retries), {rotations} rotations, {truncations} truncations seen",
            self.seed,
            self.node.messages.len(),
            self.node.files.len(),
            self.metrics.len(),
        );
    }

    /// Panics with the seed, the settings, the last operations and what went wrong.
    pub(super) fn fail(&self, why: &str) -> ! {
        let missing = self.delivered.missing(&self.node);
        let where_ = |s: &u64| {
            let files: Vec<String> = (0..self.node.files.len())
                .filter(|&f| self.node.files[f].messages.contains(s))
                .map(|f| {
                    let gone = if self.node.files[f].on_disk {
                        ""
                    } else {
                        " (unlinked)"
                    };
                    format!("{}{gone}", self.node.file_name(f))
                })
                .collect();
            format!("m{s} in {files:?}")
        };
        let trace = &self.trace[self.trace.len().saturating_sub(300)..];
        for (f, file) in self.node.files.iter().enumerate() {
            let mark = |s: &u64| format!("m{s}{}", if self.delivered.has(*s) { "" } else { "(!)" });
            let msgs: Vec<String> = file.messages.iter().map(mark).collect();
            let unique: Vec<String> = file.unique.iter().map(mark).collect();
            let disk = if file.on_disk { "" } else { " (unlinked)" };
            eprintln!(
                "{}{disk}: {msgs:?} unique {unique:?}",
                self.node.file_name(f)
            );
        }
        if let Some(m) = self.metrics.last() {
            eprintln!(
                "counters: {:?}\n{:?}\n{:?}",
                m.tail(),
                m.process(),
                m.send()
            );
        }
        panic!(
            "requests: {:?}\n\
             seed {} (replay: NODEPULSE_MODEL_SEED={} cargo test --test logs_model): {why}\n\
             settings: {:?}\n{} messages written, {} entries acknowledged\n\
             faults ({}): {:#?}\nmissing ({}): {:#?}\nlast operations:\n  {}",
            &self.delivered.requests[self.delivered.requests.len().saturating_sub(30)..],
            self.seed,
            self.seed,
            self.settings,
            self.node.messages.len(),
            self.delivered.entries,
            self.delivered.faults.len(),
            self.delivered.faults[..self.delivered.faults.len().min(10)]
                .iter()
                .map(|f| {
                    let seqs = f
                        .split(' ')
                        .filter_map(|w| w.strip_prefix('m')?.parse().ok());
                    let at: Vec<String> = seqs.map(|s| where_(&s)).collect();
                    format!("{f}; {}", at.join("; "))
                })
                .collect::<Vec<_>>(),
            missing.len(),
            missing.iter().take(10).map(where_).collect::<Vec<_>>(),
            trace.join("\n  "),
        );
    }
}
