//! The processor's per-stream state, found by the stream's live path. Lines come in
//! runs of one stream (a read of one file), so the stream of the last line is kept at
//! hand and found again by pointer: hashing the path (component by component) for
//! every line cost more than decoding it.
//!
//! A state lives as long as its stream: it is removed when the tailer lets go of the
//! stream for good (`super::ends`), so the states held are bounded by the containers
//! whose log files exist, not by every container the node ever ran. The tables give
//! their room back once they are mostly empty (pod churn leaves no high-water mark).

use super::StreamState;
use fnv::FnvHashMap;
use std::path::Path;
use std::sync::Arc;

/// Below this many slots the tables keep their room: shrinking them is not worth it.
const KEEP_SLOTS: usize = 64;

#[derive(Default)]
pub(super) struct Streams {
    index: FnvHashMap<Arc<Path>, usize>,
    /// Each state with its path (the key of its slot in `index`).
    states: Vec<(Arc<Path>, StreamState)>,
    /// The path of the last stream found and its slot.
    last: Option<(Arc<Path>, usize)>,
}

impl Streams {
    /// Streams held now.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn get(&self, path: &Path) -> Option<&StreamState> {
        self.index.get(path).map(|&i| &self.states[i].1)
    }

    pub fn get_mut(&mut self, path: &Path) -> Option<&mut StreamState> {
        self.index.get(path).map(|&i| &mut self.states[i].1)
    }

    /// The state of the stream at `path`, made by `new` if it has none yet.
    pub fn entry(
        &mut self,
        path: &Arc<Path>,
        new: impl FnOnce() -> StreamState,
    ) -> &mut StreamState {
        let i = match &self.last {
            Some((last, i)) if Arc::ptr_eq(last, path) => *i,
            _ => {
                let i = match self.index.get(&**path) {
                    Some(&i) => i,
                    None => {
                        self.states.push((path.clone(), new()));
                        self.index.insert(path.clone(), self.states.len() - 1);
                        self.states.len() - 1
                    }
                };
                self.last = Some((path.clone(), i));
                i
            }
        };
        &mut self.states[i].1
    }

    /// Removes the state of the stream at `path`, if it has one: the last slot takes
    /// its place.
    pub fn remove(&mut self, path: &Path) -> Option<StreamState> {
        let i = self.index.remove(path)?;
        self.last = None;
        let (_, state) = self.states.swap_remove(i);
        if let Some((moved, _)) = self.states.get(i) {
            self.index.insert(moved.clone(), i);
        }
        self.shrink();
        Some(state)
    }

    /// Gives room back once at most a quarter of it is used.
    fn shrink(&mut self) {
        let len = self.states.len();
        if self.states.capacity() > KEEP_SLOTS && len * 4 <= self.states.capacity() {
            self.states.shrink_to(len * 2);
            self.index.shrink_to(len * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{chunk, next, processor, raw, LIVE};
    use super::super::Processor;
    use super::*;
    use crate::agent::logs::pipeline::event::Origin;
    use crate::agent::logs::reassemble::Reassembler;
    use std::time::Duration;

    fn state(path: &Path) -> StreamState {
        StreamState {
            origin: Origin::of(path, "n1"),
            format: None,
            reassembler: Reassembler::new(1024),
            held_from: None,
        }
    }

    fn path(i: usize) -> Arc<Path> {
        Arc::from(Path::new(&format!("/pods/ns_p{i}_u{i}/c/0.log")))
    }

    /// Every state is found by its path after any removal (the moved slot's index is
    /// kept right), the last-found shortcut never names a removed slot, and the room
    /// goes back down once most streams are gone.
    #[test]
    fn removal_keeps_every_other_state_found_and_gives_room_back() {
        let mut s = Streams::default();
        let paths: Vec<Arc<Path>> = (0..1000).map(path).collect();
        for p in &paths {
            s.entry(p, || state(p));
        }
        s.entry(&paths[999], || unreachable!()); // now the last found
        for p in paths.iter().rev().step_by(2) {
            assert!(s.remove(p).is_some());
        }
        assert!(s.remove(&paths[999]).is_none(), "removed once");
        assert_eq!(s.len(), 500);
        for (i, p) in paths.iter().enumerate() {
            let found = s.get(p).map(|st| &st.origin);
            assert_eq!(found, (i % 2 == 0).then(|| state(p).origin).as_ref(), "{i}");
        }
        let again = s.entry(&paths[999], || state(&paths[999]));
        assert_eq!(again.origin, state(&paths[999]).origin);
        for p in paths.iter().step_by(2) {
            s.remove(p);
        }
        s.remove(&paths[999]);
        assert_eq!(s.len(), 0);
        assert!(s.states.capacity() <= KEEP_SLOTS, "{}", s.states.capacity());
    }

    /// A message joined from many pieces leaves no buffer in its stream's state once it
    /// is emitted (the reassembler hands its buffer to the message): a stream that once
    /// held a line of 1 MiB does not keep 1 MiB for as long as it lives.
    #[tokio::test]
    async fn a_long_joined_message_leaves_no_buffer_in_its_state() {
        let (mut p, buffer, _) = processor(Duration::from_secs(3600));
        p.max_message_bytes = 1 << 20;
        let piece = "x".repeat(16 * 1024);
        let mut end = 0;
        let mut line = |tag: &str| {
            let text = format!("2024-01-01T00:00:00.000000001Z stdout {tag} {piece}\n");
            end += text.len() as u64;
            raw(2, end, &text)
        };
        let pieces: Vec<_> = (0..12).map(|_| line("P")).collect();
        p.handle(chunk(pieces)).await;
        let held = |p: &Processor| {
            p.streams
                .get(Path::new(LIVE))
                .unwrap()
                .reassembler
                .held_capacity()
        };
        assert!(held(&p) >= 12 * piece.len(), "the pieces are held");
        p.handle(chunk(vec![line("F")])).await;
        let (e, _) = next(&buffer).await;
        assert_eq!(e.line.len(), 13 * piece.len());
        assert_eq!(held(&p), 0);
    }
}
