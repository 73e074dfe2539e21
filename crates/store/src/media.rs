//! Media bytes (images and other uploads) behind one interface, so that one machine keeps
//! them in its data directory and several share an S3-compatible bucket. Only bytes live
//! here; what an image is (caption, credit, alt text) lives with the item in the database.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle, actions};

/// Largest media object read or written through this interface.
pub const MEDIA_MAX_BYTES: usize = 25 * 1024 * 1024;
/// How long a signed S3 request stays valid; only long enough to send it.
const SIGNATURE_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// A media path is a relative path of lowercase letters, digits, `.`, `_`, `-` and `/`.
    #[error("invalid media path `{0}`")]
    InvalidPath(String),
    #[error("media object is {size} bytes; the limit is {MEDIA_MAX_BYTES}")]
    TooLarge { size: usize },
    #[error("media storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage: {0}")]
    Remote(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    async fn put(&self, path: &str, bytes: &[u8], content_type: &str) -> Result<(), MediaError>;
    /// `None` when there is no such object.
    async fn get(&self, path: &str) -> Result<Option<MediaObject>, MediaError>;
}

/// Refuses anything that could leave the media root or surprise a URL: absolute paths,
/// `..`, empty segments, and characters outside a small safe set.
pub fn check_path(path: &str) -> Result<(), MediaError> {
    let ok = !path.is_empty()
        && path.len() <= 300
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(MediaError::InvalidPath(path.to_owned()))
    }
}

/// The content type of a media path, by extension.
pub fn content_type_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Media in a local directory (the default: `data-dir/media`).
pub struct LocalMedia {
    root: PathBuf,
}

impl LocalMedia {
    pub fn new(root: PathBuf) -> Self {
        LocalMedia { root }
    }
}

#[async_trait]
impl MediaStore for LocalMedia {
    async fn put(&self, path: &str, bytes: &[u8], _content_type: &str) -> Result<(), MediaError> {
        check_path(path)?;
        if bytes.len() > MEDIA_MAX_BYTES {
            return Err(MediaError::TooLarge { size: bytes.len() });
        }
        let target = self.root.join(path);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write beside, then rename: a reader never sees half a file.
        let partial = target.with_extension("partial");
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &target).await?;
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<MediaObject>, MediaError> {
        check_path(path)?;
        match tokio::fs::read(self.root.join(path)).await {
            Ok(bytes) => Ok(Some(MediaObject {
                bytes,
                content_type: content_type_of(path).to_owned(),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Where the S3-compatible bucket is and how to sign for it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `https://s3.eu-west-1.amazonaws.com`, or a MinIO/R2/moto address.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `endpoint/bucket/key` (true; what MinIO and moto expect) or `bucket.endpoint/key`.
    pub path_style: bool,
}

/// Media in an S3-compatible bucket, shared by every instance.
pub struct S3Media {
    bucket: Bucket,
    credentials: Credentials,
    http: reqwest::Client,
}

impl S3Media {
    pub fn new(settings: &S3Settings) -> Result<Self, MediaError> {
        // One TLS provider for the process; a second install is refused, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let endpoint = settings
            .endpoint
            .parse()
            .map_err(|e| MediaError::Remote(format!("endpoint `{}`: {e}", settings.endpoint)))?;
        let style = if settings.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            endpoint,
            style,
            settings.bucket.clone(),
            settings.region.clone(),
        )
        .map_err(|e| MediaError::Remote(format!("bucket: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| MediaError::Remote(e.to_string()))?;
        Ok(S3Media {
            bucket,
            credentials: Credentials::new(
                settings.access_key_id.clone(),
                settings.secret_access_key.clone(),
            ),
            http,
        })
    }

    /// Creates the bucket; for first set-up and tests (production buckets are made by ops).
    pub async fn create_bucket(&self) -> Result<(), MediaError> {
        let url =
            actions::CreateBucket::new(&self.bucket, &self.credentials).sign(SIGNATURE_LIFETIME);
        let response = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .body(Vec::new())
            .send()
            .await
            .map_err(remote)?;
        if response.status().is_success() || response.status() == reqwest::StatusCode::CONFLICT {
            Ok(())
        } else {
            Err(MediaError::Remote(format!(
                "create bucket: {}",
                response.status()
            )))
        }
    }
}

fn remote(e: reqwest::Error) -> MediaError {
    MediaError::Remote(e.to_string())
}

#[async_trait]
impl MediaStore for S3Media {
    async fn put(&self, path: &str, bytes: &[u8], content_type: &str) -> Result<(), MediaError> {
        check_path(path)?;
        if bytes.len() > MEDIA_MAX_BYTES {
            return Err(MediaError::TooLarge { size: bytes.len() });
        }
        let url = actions::PutObject::new(&self.bucket, Some(&self.credentials), path)
            .sign(SIGNATURE_LIFETIME);
        let response = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(remote)?;
        if !response.status().is_success() {
            return Err(MediaError::Remote(format!(
                "put {path}: {}",
                response.status()
            )));
        }
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<MediaObject>, MediaError> {
        check_path(path)?;
        let url = actions::GetObject::new(&self.bucket, Some(&self.credentials), path)
            .sign(SIGNATURE_LIFETIME);
        let response = self.http.get(url).send().await.map_err(remote)?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => return Ok(None),
            s if !s.is_success() => {
                return Err(MediaError::Remote(format!("get {path}: {s}")));
            }
            _ => {}
        }
        if response
            .content_length()
            .is_some_and(|n| n > MEDIA_MAX_BYTES as u64)
        {
            return Err(MediaError::TooLarge {
                size: response.content_length().unwrap_or_default() as usize,
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| content_type_of(path).to_owned(), str::to_owned);
        let bytes = response.bytes().await.map_err(remote)?.to_vec();
        Ok(Some(MediaObject {
            bytes,
            content_type,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::check_path;

    #[test]
    fn media_paths_stay_inside_the_root() {
        for good in ["demo/hero-harbour.jpg", "2026/11/a_b.c.png"] {
            assert!(check_path(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            ".hidden",
            "A.jpg",
            "a b.jpg",
            "a\\b",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
