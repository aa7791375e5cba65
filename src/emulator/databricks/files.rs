//! Files API 2.0 for Unity Catalog volumes: `PUT/GET/HEAD/DELETE /api/2.0/fs/files{path}` and
//! `PUT/HEAD/DELETE/GET /api/2.0/fs/directories{path}`. Paths live under an existing
//! `/Volumes/<catalog>/<schema>/<volume>/`; every call needs USE CATALOG and USE SCHEMA,
//! reads need READ VOLUME and writes need READ VOLUME and WRITE VOLUME, refused with 403
//! PERMISSION_DENIED naming the privilege. Missing files and directories are 404 NOT_FOUND.
//!
//! Two choices where Databricks' behaviour is UNCONFIRMED, both the stricter reading: a file
//! PUT does not create missing parent directories (404, so clients create them first), and
//! `overwrite=false` on an existing file is 409 ALREADY_EXISTS.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::auth::Principal;
use super::catalog::Refusal;
use super::grants::Privilege;
use super::server::{ApiError, Shared, json_response};
use super::volumes::{Conflict, Entry, VolumePath};

/// The largest single PUT Files API 2.0 accepts.
const MAX_FILE: u64 = 5 * 1024 * 1024 * 1024;

/// The largest and default page of a directory listing.
const MAX_PAGE: usize = 1000;

/// What every Files API route answers with.
type Answer = Result<Response, ApiError>;

fn not_found(what: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", what)
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
}

fn internal(error: std::io::Error) -> ApiError {
    let message = format!("The emulator's volume storage failed: {error}");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// Parses the path of a route (without its leading slash).
fn volume_path(raw: &str) -> Result<VolumePath, ApiError> {
    let text = format!("/{raw}");
    VolumePath::parse(&text).ok_or_else(|| {
        bad_request(format!(
            "'{text}' is not a path inside a volume: expected /Volumes/<catalog>/<schema>/\
             <volume>/..."
        ))
    })
}

/// Checks the grants of `who` on the volume of `path`.
fn access(
    shared: &Shared,
    who: &Principal,
    path: &VolumePath,
    write: bool,
) -> Result<(), ApiError> {
    let meta = shared.workspace.meta.read().expect("metastore lock");
    let volume = &path.volume;
    let mut checked = meta
        .reach(who, volume)
        .and_then(|()| meta.require(who, Privilege::ReadVolume, volume));
    if write {
        checked = checked.and_then(|()| meta.require(who, Privilege::WriteVolume, volume));
    }
    checked.map_err(|refusal| match refusal {
        Refusal::CatalogMissing(c) => not_found(format!("Catalog '{c}' does not exist.")),
        Refusal::SchemaMissing(c, s) => not_found(format!("Schema '{c}.{s}' does not exist.")),
        Refusal::ObjectMissing(v) => not_found(format!("Volume '{}' does not exist.", v.key())),
        Refusal::Denied(privilege, object) => {
            let message = format!(
                "User does not have {} on {} '{}'.",
                privilege.name(),
                object.kind.title(),
                object.key()
            );
            ApiError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
        }
        Refusal::NotOwner(object) => {
            let message = format!("User is not an owner of Volume '{}'.", object.key());
            ApiError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
        }
    })
}

pub(crate) async fn put_file(
    shared: &Shared,
    who: &Principal,
    raw: &str,
    query: Option<&str>,
    body: Body,
) -> Answer {
    let path = volume_path(raw)?;
    if path.is_root() || path.trailing_slash {
        return Err(bad_request(
            "A file path must name a file, not a directory.",
        ));
    }
    let overwrite = overwrite(query)?;
    access(shared, who, &path, true)?;

    let volumes = &shared.workspace.volumes;
    let upload = volumes.upload_file();
    let placed = match receive(&upload, body).await {
        Ok(()) => volumes.place(&upload, &path, overwrite).map_err(internal),
        Err(error) => Err(error),
    };
    if !matches!(placed, Ok(Ok(()))) {
        let _ = tokio::fs::remove_file(&upload).await;
    }
    let shown = path.display();
    match placed? {
        Ok(()) => Ok(empty(StatusCode::NO_CONTENT)),
        Err(Conflict::NoParent) => Err(not_found(format!(
            "The parent directory of {shown} does not exist; create it first."
        ))),
        Err(Conflict::WrongKind) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            format!("{shown} is a directory."),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            format!("The file being created already exists: {shown}."),
        )),
    }
}

/// `overwrite` is `true` unless the query says `false`; other parameters are refused.
fn overwrite(query: Option<&str>) -> Result<bool, ApiError> {
    let mut overwrite = true;
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match (&*name, &*value) {
            ("overwrite", "true") => overwrite = true,
            ("overwrite", "false") => overwrite = false,
            _ => {
                return Err(bad_request(format!(
                    "Invalid query parameter: {name}={value}"
                )));
            }
        }
    }
    Ok(overwrite)
}

/// Streams the request body into `upload`, at most [`MAX_FILE`] bytes.
async fn receive(upload: &std::path::Path, body: Body) -> Result<(), ApiError> {
    let mut file = tokio::fs::File::create(upload).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| bad_request(format!("Reading the body failed: {e}")))?;
        size += chunk.len() as u64;
        if size > MAX_FILE {
            let message = "Files API 2.0 accepts files of at most 5 GiB.";
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RESOURCE_EXHAUSTED",
                message,
            ));
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)
}

/// GET (with `Range` and `If-Unmodified-Since`) or, when `head`, HEAD of a file.
pub(crate) async fn get_file(
    shared: &Shared,
    who: &Principal,
    raw: &str,
    headers: &HeaderMap,
    head: bool,
) -> Answer {
    let path = volume_path(raw)?;
    access(shared, who, &path, false)?;
    let entry = match shared.workspace.volumes.entry(&path) {
        Some(entry) if !entry.is_directory => entry,
        _ => {
            return Err(not_found(format!(
                "The file {} does not exist.",
                path.display()
            )));
        }
    };
    if let Some(since) = header_date(headers, header::IF_UNMODIFIED_SINCE)
        && seconds(entry.modified) > seconds(since)
    {
        let message = "The file was modified after If-Unmodified-Since.";
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "PRECONDITION_FAILED",
            message,
        ));
    }

    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| byte_range(r, entry.size));
    let (status, start, length) = match range {
        None => (StatusCode::OK, 0, entry.size),
        Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Some(None) => {
            let mut response = empty(StatusCode::RANGE_NOT_SATISFIABLE);
            let unsatisfied = format!("bytes */{}", entry.size);
            if let Ok(value) = HeaderValue::from_str(&unsatisfied) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };

    let body = if head {
        Body::empty()
    } else {
        let local = shared.workspace.volumes.local(&path);
        let bytes = tokio::fs::read(local).await.map_err(internal)?;
        let end = usize::try_from(start + length).map_or(bytes.len(), |e| e.min(bytes.len()));
        Body::from(bytes[start as usize..end].to_vec())
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(value) = HeaderValue::from_str(&http_date(entry.modified)) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        let range = format!("bytes {start}-{}/{}", start + length - 1, entry.size);
        if let Ok(value) = HeaderValue::from_str(&range) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}

/// One `bytes=` range as inclusive offsets; `None` when it cannot be satisfied.
fn byte_range(text: &str, size: u64) -> Option<(u64, u64)> {
    let spec = text.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix: u64 = suffix.parse().ok()?;
            (size.saturating_sub(suffix), size - 1)
        }
        (start, "") => (start.parse().ok()?, size - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

pub(crate) fn delete_file(shared: &Shared, who: &Principal, raw: &str) -> Answer {
    let path = volume_path(raw)?;
    access(shared, who, &path, true)?;
    match shared
        .workspace
        .volumes
        .delete_file(&path)
        .map_err(internal)?
    {
        Ok(()) => Ok(empty(StatusCode::NO_CONTENT)),
        Err(_) => Err(not_found(format!(
            "The file {} does not exist.",
            path.display()
        ))),
    }
}

pub(crate) fn put_directory(shared: &Shared, who: &Principal, raw: &str) -> Answer {
    let path = volume_path(raw)?;
    access(shared, who, &path, true)?;
    let created = shared.workspace.volumes.create_directories(&path);
    match created.map_err(internal)? {
        Ok(()) => Ok(empty(StatusCode::NO_CONTENT)),
        Err(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            format!("A file stands in the way of directory {}.", path.display()),
        )),
    }
}

pub(crate) fn head_directory(shared: &Shared, who: &Principal, raw: &str) -> Answer {
    let path = volume_path(raw)?;
    access(shared, who, &path, false)?;
    match shared.workspace.volumes.entry(&path) {
        Some(entry) if entry.is_directory => Ok(empty(StatusCode::OK)),
        _ => Err(not_found(format!(
            "The directory {} does not exist.",
            path.display()
        ))),
    }
}

/// Only empty directories can be deleted; the code for a non-empty one is UNCONFIRMED.
pub(crate) fn delete_directory(shared: &Shared, who: &Principal, raw: &str) -> Answer {
    let path = volume_path(raw)?;
    if path.is_root() {
        return Err(bad_request("The root of a volume cannot be deleted."));
    }
    access(shared, who, &path, true)?;
    let shown = path.display();
    match shared
        .workspace
        .volumes
        .delete_directory(&path)
        .map_err(internal)?
    {
        Ok(()) => Ok(empty(StatusCode::NO_CONTENT)),
        Err(Conflict::NotEmpty) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "RESOURCE_CONFLICT",
            format!("The directory {shown} is not empty."),
        )),
        Err(_) => Err(not_found(format!("The directory {shown} does not exist."))),
    }
}

/// The direct children of a directory, by name, `page_size` (at most 1000) at a time.
pub(crate) fn list_directory(
    shared: &Shared,
    who: &Principal,
    raw: &str,
    query: Option<&str>,
) -> Answer {
    let path = volume_path(raw)?;
    let (page_size, after) = page(query)?;
    access(shared, who, &path, false)?;
    let volumes = &shared.workspace.volumes;
    let shown = path.display();
    if !volumes.entry(&path).is_some_and(|e| e.is_directory) {
        return Err(not_found(format!("The directory {shown} does not exist.")));
    }
    let remaining: Vec<_> = volumes
        .list(&path)
        .map_err(internal)?
        .into_iter()
        .filter(|l| after.as_ref().is_none_or(|after| l.name > *after))
        .collect();
    let page: Vec<Value> = remaining
        .iter()
        .take(page_size)
        .map(|l| listed_entry(&shown, &l.name, &l.entry))
        .collect();
    let mut body = json!({ "contents": page });
    if remaining.len() > page_size {
        let last = &remaining[page_size - 1].name;
        body["next_page_token"] = json!(URL_SAFE_NO_PAD.encode(last));
    }
    Ok(json_response(StatusCode::OK, &body))
}

fn listed_entry(directory: &str, name: &str, entry: &Entry) -> Value {
    let mut value = json!({
        "path": format!("{directory}/{name}"),
        "name": name,
        "is_directory": entry.is_directory,
    });
    if !entry.is_directory {
        value["file_size"] = json!(entry.size);
        value["last_modified"] = json!(millis(entry.modified));
    }
    value
}

/// `page_size` (coerced into 1..=1000, 1000 when absent) and the name a `page_token` ends at.
fn page(query: Option<&str>) -> Result<(usize, Option<String>), ApiError> {
    let (mut size, mut after) = (MAX_PAGE, None);
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*name {
            "page_size" => {
                let requested: i64 = value
                    .parse()
                    .map_err(|_| bad_request(format!("Invalid page_size: {value}")))?;
                size = match usize::try_from(requested) {
                    Ok(0) | Err(_) => MAX_PAGE,
                    Ok(requested) => requested.min(MAX_PAGE),
                };
            }
            "page_token" => {
                let decoded = URL_SAFE_NO_PAD
                    .decode(value.as_bytes())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| bad_request("Invalid page_token."))?;
                after = Some(decoded);
            }
            _ => return Err(bad_request(format!("Invalid query parameter: {name}"))),
        }
    }
    Ok((size, after))
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// RFC 7231's IMF-fixdate, as `Last-Modified` carries it.
fn http_date(time: SystemTime) -> String {
    let time: DateTime<Utc> = time.into();
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn header_date(headers: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    let text = headers.get(name)?.to_str().ok()?;
    let parsed = DateTime::parse_from_rfc2822(text).ok()?;
    let seconds = u64::try_from(parsed.timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_rfc_7233() {
        assert_eq!(byte_range("bytes=0-3", 10), Some((0, 3)));
        assert_eq!(byte_range("bytes=4-", 10), Some((4, 9)));
        assert_eq!(byte_range("bytes=-3", 10), Some((7, 9)));
        assert_eq!(byte_range("bytes=5-99", 10), Some((5, 9)));
        assert_eq!(byte_range("bytes=10-", 10), None);
        assert_eq!(byte_range("bytes=0-1,3-4", 10), None);
    }

    #[test]
    fn dates_are_imf_fixdates() {
        let time = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let text = http_date(time);
        assert_eq!(text, "Mon, 01 Jan 2024 00:00:00 GMT");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_UNMODIFIED_SINCE,
            HeaderValue::from_str(&text).unwrap(),
        );
        assert_eq!(
            header_date(&headers, header::IF_UNMODIFIED_SINCE),
            Some(time)
        );
    }
}
