//! The Zuora REST client: OAuth client credentials, the Describe API (which objects exist and
//! which of their fields can be exported) and Object Query pages over half-open windows of the
//! cursor field. Pages come back as raw bytes; `decode` turns them into Arrow.

mod client;
mod deletes;
mod describe;
mod query;

pub use client::ZuoraClient;
pub use describe::{DescribedObject, SkippedField, parse_describe, parse_object_list};
pub use query::{PageBody, PageRequest, WindowBounds};
