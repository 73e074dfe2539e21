//! Image uploads: recognised by their content (never by name), bounded in bytes and pixels
//! before anything is decoded, then decoded and re-encoded, which drops every piece of
//! metadata (EXIF, GPS, comments), and stored with resized variants for `srcset`.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::error::{Result, ServiceError};
use crate::newsroom::Newsroom;

/// Largest upload accepted.
pub const UPLOAD_MAX_BYTES: usize = 15 * 1024 * 1024;
/// Most pixels an upload may declare; a decompression bomb declares far more than it sends.
pub const UPLOAD_MAX_PIXELS: u64 = 40_000_000;
/// Longest side accepted.
pub const UPLOAD_MAX_SIDE: u32 = 12_000;
/// The stored original is at most this wide; nothing on a page needs more.
pub const STORED_MAX_WIDTH: u32 = 2400;
/// Widths of the resized variants offered in `srcset`, where narrower than the original.
pub const VARIANT_WIDTHS: [u32; 4] = [320, 640, 1024, 1600];
const JPEG_QUALITY: u8 = 85;

/// A stored image: its media path (`uploads/2026/11/1a2b….jpg`) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedImage {
    pub path: String,
    pub width: u32,
    pub height: u32,
}

/// The media path of the variant `width` wide of the stored image at `path`.
pub fn variant_path(path: &str, width: u32) -> String {
    match path.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}-{width}.{ext}"),
        None => format!("{path}-{width}"),
    }
}

fn refuse(reason: impl Into<String>) -> ServiceError {
    newsdesk_core::Error::invalid("image", reason).into()
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let rgb = image.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| ServiceError::Io(std::io::Error::other(format!("encoding: {e}"))))?;
    Ok(out)
}

/// Media path and encoded bytes of one file to store.
type EncodedFile = (String, Vec<u8>);

/// Checks and converts an upload; returns the files to store, largest first.
fn prepare(bytes: &[u8], stem: &str) -> Result<(UploadedImage, Vec<EncodedFile>)> {
    if bytes.len() > UPLOAD_MAX_BYTES {
        return Err(refuse(format!(
            "is {} bytes; the limit is {UPLOAD_MAX_BYTES} bytes",
            bytes.len()
        )));
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        _ => return Err(refuse("is not a JPEG, PNG or WebP image")),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| refuse("could not be read as an image"))?;
    if width > UPLOAD_MAX_SIDE
        || height > UPLOAD_MAX_SIDE
        || u64::from(width) * u64::from(height) > UPLOAD_MAX_PIXELS
    {
        return Err(refuse(format!(
            "is {width}×{height} pixels; the limit is {UPLOAD_MAX_PIXELS} pixels and {UPLOAD_MAX_SIDE} on a side"
        )));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(UPLOAD_MAX_SIDE);
    limits.max_image_height = Some(UPLOAD_MAX_SIDE);
    limits.max_alloc = Some(UPLOAD_MAX_PIXELS * 8);
    reader.limits(limits);
    let mut image = reader
        .decode()
        .map_err(|_| refuse("could not be read as an image"))?;
    if image.width() > STORED_MAX_WIDTH {
        image = image.resize(
            STORED_MAX_WIDTH,
            u32::MAX,
            image::imageops::FilterType::Lanczos3,
        );
    }
    let stored = UploadedImage {
        path: format!("{stem}.jpg"),
        width: image.width(),
        height: image.height(),
    };
    let mut files = vec![(stored.path.clone(), encode_jpeg(&image)?)];
    for width in VARIANT_WIDTHS.into_iter().filter(|w| *w < image.width()) {
        let variant = image.resize(width, u32::MAX, image::imageops::FilterType::Lanczos3);
        files.push((variant_path(&stored.path, width), encode_jpeg(&variant)?));
    }
    Ok((stored, files))
}

impl Newsroom {
    /// Checks, converts and stores an uploaded image with its variants.
    pub async fn upload_image(&self, bytes: Vec<u8>, now: Timestamp) -> Result<UploadedImage> {
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let month = now.strftime("%Y/%m");
        let stem = format!("uploads/{month}/{hash}");
        let (stored, files) = tokio::task::spawn_blocking(move || prepare(&bytes, &stem))
            .await
            .map_err(|e| ServiceError::Io(std::io::Error::other(e.to_string())))??;
        for (path, data) in files {
            self.media().put(&path, &data, "image/jpeg").await?;
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::new_rgb8(width, height);
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("png");
        out
    }

    #[test]
    fn an_image_is_reencoded_with_variants_narrower_than_it() {
        let (stored, files) = prepare(&png(1200, 600), "uploads/x/abc").expect("ok");
        assert_eq!((stored.width, stored.height), (1200, 600));
        let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "uploads/x/abc.jpg",
                "uploads/x/abc-320.jpg",
                "uploads/x/abc-640.jpg",
                "uploads/x/abc-1024.jpg"
            ]
        );
        assert!(
            files.iter().all(|(_, b)| b.starts_with(&[0xff, 0xd8])),
            "JPEG"
        );
    }

    #[test]
    fn a_renamed_executable_is_refused_by_its_content() {
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        let err = prepare(elf, "x").expect_err("refused");
        assert!(err.to_string().contains("not a JPEG, PNG or WebP"), "{err}");
    }
}
