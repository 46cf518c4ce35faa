//! What a Loki receiver acknowledged, checked entry by entry against the node model
//! ([`super::kubelet::Node`]) as it arrives: every entry must be a message the model
//! wrote, with the stream labels, structured metadata and timestamp its container
//! instance and CRI line say, acknowledged once, in order per (instance, stream).
//! Entries answered with a non-2xx status were not taken and do not count.

use super::kubelet::{Node, STREAMS};
use super::receivers::Receiver;
use nodepulse::agent::sinks::loki::proto::EntryAdapter;
use std::collections::HashMap;

pub struct Delivered {
    node_name: String,
    /// Requests read so far.
    next_request: usize,
    /// Per message: how many times it was acknowledged, and the first request it was in.
    count: Vec<u32>,
    first_request: Vec<usize>,
    /// Per (instance, stream): the last message acknowledged.
    last: HashMap<(usize, usize), u64>,
    /// Everything wrong seen so far (duplicates, order, unknown or mislabelled entries).
    pub faults: Vec<String>,
    pub entries: usize,
    /// The message numbers of each request, by request index (for failure reports).
    pub requests: Vec<(usize, u16, Vec<String>)>,
}

impl Delivered {
    pub fn new(node_name: &str) -> Delivered {
        Delivered {
            node_name: node_name.to_string(),
            next_request: 0,
            count: Vec::new(),
            first_request: Vec::new(),
            last: HashMap::new(),
            faults: Vec::new(),
            entries: 0,
            requests: Vec::new(),
        }
    }

    /// Reads the requests the receiver got since the last call.
    pub fn ingest(&mut self, receiver: &Receiver, node: &Node) {
        let new = receiver.script.received_from(self.next_request);
        let n = new.len();
        self.next_request += n;
        self.count.resize(node.messages.len(), 0);
        self.first_request.resize(node.messages.len(), 0);
        for (k, r) in new.into_iter().enumerate() {
            let request = self.next_request - n + k;
            let seqs = r
                .push
                .iter()
                .flat_map(|p| &p.streams)
                .flat_map(|s| &s.entries);
            let seqs = seqs.map(|e| e.line.split(' ').next().unwrap_or("").to_string());
            self.requests.push((request, r.status, seqs.collect()));
            if !(200..300).contains(&r.status) {
                continue;
            }
            for stream in r.push.expect("a protobuf push").streams {
                for e in &stream.entries {
                    self.entries += 1;
                    if let Err(fault) = self.check(node, &stream.labels, e, request) {
                        self.faults.push(format!("{fault} (request {request})"));
                    }
                }
            }
        }
    }

    fn check(
        &mut self,
        node: &Node,
        labels: &str,
        e: &EntryAdapter,
        request: usize,
    ) -> Result<(), String> {
        let seq = e.line.strip_prefix('m').and_then(|r| r.split(' ').next());
        let seq: u64 = seq
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("an entry the model never wrote: {:.120}", e.line))?;
        let m = node
            .messages
            .get(seq as usize)
            .ok_or_else(|| format!("m{seq} was never written"))?;
        if e.line != m.text {
            return Err(format!("m{seq} arrived altered: {:.120}", e.line));
        }
        let inst = &node.instances[m.instance];
        let want_labels = format!(
            "{{container=\"{}\", namespace=\"{}\", node=\"{}\", pod=\"{}\", stream=\"{}\"}}",
            inst.container, inst.namespace, self.node_name, inst.pod, STREAMS[m.stream]
        );
        if labels != want_labels {
            return Err(format!("m{seq} labelled {labels}, not {want_labels}"));
        }
        let meta: Vec<(&str, &str)> = e
            .structured_metadata
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        let restart = inst.restart.to_string();
        let want_meta = [("pod_uid", inst.uid.as_str()), ("restart_count", &restart)];
        if !want_meta.iter().all(|w| meta.contains(w)) {
            return Err(format!("m{seq} has metadata {meta:?}, not {want_meta:?}"));
        }
        let ts = e
            .timestamp
            .as_ref()
            .map(|t| t.seconds * 1_000_000_000 + i64::from(t.nanos));
        if ts != Some(m.timestamp_ns) {
            return Err(format!(
                "m{seq} has timestamp {ts:?}, not {}",
                m.timestamp_ns
            ));
        }
        self.count[seq as usize] += 1;
        if self.count[seq as usize] > 1 {
            let (n, first) = (self.count[seq as usize], self.first_request[seq as usize]);
            return Err(format!(
                "m{seq} acknowledged {n} times (first in request {first})"
            ));
        }
        self.first_request[seq as usize] = request;
        let key = (m.instance, m.stream);
        if let Some(&before) = self.last.get(&key).filter(|&&b| b > seq) {
            return Err(format!(
                "m{seq} ({}) arrived after m{before}",
                node.name(m.instance)
            ));
        }
        self.last.insert(key, seq);
        Ok(())
    }

    /// How many requests were read so far (where the next agent run's begin).
    pub fn requests_read(&self) -> usize {
        self.next_request
    }

    /// True when the message was first acknowledged in request `from` or later.
    pub fn has_since(&self, seq: u64, from: usize) -> bool {
        self.has(seq) && self.first_request[seq as usize] >= from
    }

    pub fn has(&self, seq: u64) -> bool {
        self.count.get(seq as usize).is_some_and(|&n| n > 0)
    }

    /// Messages written and not (yet) acknowledged.
    pub fn missing(&self, node: &Node) -> Vec<u64> {
        let all = 0..node.messages.len() as u64;
        all.filter(|&s| !self.has(s)).collect()
    }
}
