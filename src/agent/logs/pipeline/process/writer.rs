//! One message's record, written in place into the open batch: the app-log stage
//! (redact, lift fields), the record from the stream's cached blocks ([`Origin`]), then
//! the later [`Stage`]s, if any, on an [`Event`] made from it.

use super::super::applog_stage::AppLogStage;
use super::super::event::{Event, Origin, Stage};
use std::borrow::Cow;

/// Writes one message's record: the app-log stage (redact, lift), then the record from
/// the stream's cached blocks, then the later stages, if any, on an [`Event`].
pub(super) struct RecordWriter<'a> {
    pub app_log: &'a mut Option<AppLogStage>,
    pub stages: &'a mut [Box<dyn Stage>],
    /// The lifted fields of the message being written (the processor's, reused).
    pub lifted: &'a mut Vec<u8>,
}

impl RecordWriter<'_> {
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        origin: &Origin,
        stream: usize,
        ts: i64,
        text: &str,
    ) {
        self.write_marked(out, origin, stream, ts, &[], text);
    }

    /// [`RecordWriter::write`] with `marks` (record pairs) before the lifted fields.
    pub fn write_marked(
        &mut self,
        out: &mut Vec<u8>,
        origin: &Origin,
        stream: usize,
        timestamp_ns: i64,
        marks: &[u8],
        text: &str,
    ) {
        self.lifted.clear();
        self.lifted.extend_from_slice(marks);
        let line = match self.app_log.as_mut() {
            Some(app_log) => app_log.run(text, self.lifted),
            None => Cow::Borrowed(text),
        };
        let start = out.len();
        origin.write_record(out, stream, timestamp_ns, self.lifted, &line);
        if self.stages.is_empty() {
            return;
        }
        let mut event = Event::from_record(&out[start..]).expect("a record just written parses");
        for stage in self.stages.iter_mut() {
            stage.apply(&mut event);
        }
        out.truncate(start);
        out.extend_from_slice(&event.to_record());
    }
}
