//! The processor's per-stream state, found by the stream's live path. Lines come in
//! runs of one stream (a read of one file), so the stream of the last line is kept at
//! hand and found again by pointer: hashing the path (component by component) for
//! every line cost more than decoding it.

use super::StreamState;
use fnv::FnvHashMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct Streams {
    index: FnvHashMap<Arc<Path>, usize>,
    states: Vec<StreamState>,
    /// The path of the last stream found and its slot.
    last: Option<(Arc<Path>, usize)>,
}

impl Streams {
    pub fn get(&self, path: &Path) -> Option<&StreamState> {
        self.index.get(path).map(|&i| &self.states[i])
    }

    pub fn get_mut(&mut self, path: &Path) -> Option<&mut StreamState> {
        self.index.get(path).map(|&i| &mut self.states[i])
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
                        self.states.push(new());
                        self.index.insert(path.clone(), self.states.len() - 1);
                        self.states.len() - 1
                    }
                };
                self.last = Some((path.clone(), i));
                i
            }
        };
        &mut self.states[i]
    }
}
