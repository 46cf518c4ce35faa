//! The Prometheus exposition formats: the metric model collectors fill, the encoder the
//! agent serves with (text 0.0.4 and OpenMetrics 1.0), normalization (no duplicate
//! series, ever) and the parser the scraper and tests read with.

mod encode;
mod labelset;
mod model;
mod normalize;
pub mod parse;

pub use encode::{encode, encode_families, escape_into, finish, write_value, Format};
pub use labelset::LabelSet;
pub use model::{Label, MetricFamily, MetricType, Sample};
pub use normalize::{normalize, Dropped};
