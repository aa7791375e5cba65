//! Object Query requests: `GET /object-query/{objects}` over a half-open window
//! `[start, end)` of the cursor field, sorted ascending by it (Zuora breaks ties by id). The
//! `cursor` of a following page goes with exactly the same other parameters, as the API
//! requires.
//!
//! No `fields[]` is sent: Describe (a v1 API) can list fields that Object Query does not know,
//! and naming one in `fields[]` fails the whole request. Pages carry every field instead, and
//! the decoder keeps the exportable ones.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};

use super::ZuoraClient;
use super::client::ensure_success;
use crate::error::{Error, Result};
use crate::http::{Response, excerpt};
use crate::schema::{ObjectSchema, object_query_path};

/// A half-open range of the cursor field and, to share out a busy second, of the ids; `None`
/// leaves that side open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowBounds {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub id_start: Option<String>,
    pub id_end: Option<String>,
}

pub struct PageRequest<'a> {
    pub schema: &'a ObjectSchema,
    pub bounds: WindowBounds,
    /// The `nextPage` of the previous page, unchanged.
    pub cursor: Option<&'a str>,
}

impl PageRequest<'_> {
    pub fn path(&self) -> String {
        format!("object-query/{}", object_query_path(&self.schema.object))
    }

    pub fn query(&self, page_size: u32) -> Vec<(&'static str, String)> {
        let mut query = vec![("pageSize", page_size.to_string())];
        match self.schema.cursor_field() {
            Some(field) => {
                let name = field.name.to_ascii_lowercase();
                query.push(("sort[]", format!("{name}.ASC")));
                if let Some(start) = self.bounds.start {
                    query.push(("filter[]", format!("{name}.GE:{}", instant(start))));
                }
                if let Some(end) = self.bounds.end {
                    query.push(("filter[]", format!("{name}.LT:{}", instant(end))));
                }
            }
            // Without a cursor field the object is read whole, in id order.
            None => query.push(("sort[]", "id.ASC".to_string())),
        }
        if let Some(id) = &self.bounds.id_start {
            query.push(("filter[]", format!("id.GE:{id}")));
        }
        if let Some(id) = &self.bounds.id_end {
            query.push(("filter[]", format!("id.LT:{id}")));
        }
        if let Some(cursor) = self.cursor {
            query.push(("cursor", cursor.to_string()));
        }
        query
    }
}

/// Pages larger than this are refused: a page holds at most 99 records, and a page this large
/// means a broken answer (or a field that would make every warehouse row enormous).
const MAX_PAGE_BYTES: usize = 64 << 20;

/// What a page request returned.
pub enum PageBody {
    /// The raw JSON body of a page.
    Page(Bytes),
    /// Zuora refused the `cursor` (it expires); the read must restart without it.
    CursorRejected(String),
}

impl ZuoraClient {
    /// One page of rows, as the raw JSON body.
    pub async fn query_page(&self, request: &PageRequest<'_>) -> Result<PageBody> {
        let path = request.path();
        let query = request.query(self.page_size);
        let response = self.call(reqwest::Method::GET, &path, &query, None).await?;
        // Zuora answers 400 to a cursor it no longer honours; the exact text is not documented,
        // so any 400 to a request that carried a cursor counts as that.
        if response.status.as_u16() == 400 && request.cursor.is_some() {
            return Ok(PageBody::CursorRejected(excerpt(&response.body)));
        }
        let response = served(request, &path, response)?;
        if response.body.len() > MAX_PAGE_BYTES {
            return Err(Error::Source(format!(
                "GET /{path} returned a page of {} MiB; 99 records of any Zuora object come to \
                 far less than {} MiB, so the page is refused rather than loaded",
                response.body.len() >> 20,
                MAX_PAGE_BYTES >> 20
            )));
        }
        Ok(PageBody::Page(response.body))
    }

    /// A page of one row: the first row of the window.
    pub async fn query_one(&self, request: &PageRequest<'_>) -> Result<Bytes> {
        let path = request.path();
        let mut query = request.query(1);
        query.retain(|(key, _)| *key != "cursor");
        let response = self.call(reqwest::Method::GET, &path, &query, None).await?;
        Ok(served(request, &path, response)?.body)
    }
}

/// A successful Object Query response; a 404 means Object Query has no such object (Describe
/// lists objects it does not serve), which is `Error::Unsupported`.
fn served(request: &PageRequest<'_>, path: &str, response: Response) -> Result<Response> {
    if response.status.as_u16() == 404 {
        return Err(Error::Unsupported(format!(
            "Object Query does not serve {} (GET /{path} answered 404: {})",
            request.schema.object,
            excerpt(&response.body)
        )));
    }
    ensure_success(&format!("GET /{path}"), response)
}

/// Filters work at whole seconds, in UTC with a `Z`.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::schema::{Field, FieldType};

    #[test]
    fn windows_become_sorted_half_open_filters() {
        let schema = ObjectSchema::new(
            "InvoiceItem",
            vec![
                Field::new("Id", "Id", FieldType::Text, vec![]),
                Field::new("UOM", "UOM", FieldType::Text, vec![]),
                Field::new("UpdatedDate", "Updated", FieldType::Datetime, vec![]),
            ],
            vec![],
        );
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap();
        let request = PageRequest {
            schema: &schema,
            bounds: WindowBounds {
                start: Some(start),
                end: Some(end),
                id_start: Some("8a80".into()),
                id_end: None,
            },
            cursor: Some("abc="),
        };
        assert_eq!(request.path(), "object-query/invoice-items");
        let query = request.query(99);
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            query,
            [
                ("pageSize", "99"),
                ("sort[]", "updateddate.ASC"),
                ("filter[]", "updateddate.GE:2024-01-01T00:00:00Z"),
                ("filter[]", "updateddate.LT:2024-02-01T00:00:00Z"),
                ("filter[]", "id.GE:8a80"),
                ("cursor", "abc="),
            ]
        );
    }
}
