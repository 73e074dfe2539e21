//! Image uploads: recognised by their content (never by name), bounded in bytes and pixels
//! before anything is decoded, then decoded, turned upright by their EXIF orientation and
//! re-encoded as JPEG and lossy WebP, which drops every piece of metadata (EXIF, GPS,
//! comments), and stored with resized variants for `srcset`.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
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
/// Part of every stored name: bump it whenever the encoding changes (quality, sizes,
/// orientation), so that an upload encoded differently gets a new name. Uploads are served
/// as immutable, and a name must never come to mean other bytes.
pub const ENCODING_VERSION: &str = "3";
/// Where uploads live in the media store; everything under it is immutable.
pub const UPLOADS_PREFIX: &str = "uploads/";
/// libwebp's 0–100 scale is not JPEG's: 80 looks like our JPEG at 85 and takes about half
/// its bytes (the demo's harbour picture: 176 KB against 312 KB at 1600 px), which is the
/// point of offering it.
const WEBP_QUALITY: f32 = 80.0;

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

/// The media path of the WebP twin of the JPEG at `path` (or of one of its variants).
/// Aspect ratios search engines and link previews ask for (Google's article images want
/// 16:9, 4:3 and 1:1), each cropped from the centre of the stored image.
pub const CROP_RATIOS: [(u32, u32); 3] = [(16, 9), (4, 3), (1, 1)];
/// Width of each crop, or the crop's own width where the image is narrower.
pub const CROP_WIDTH: u32 = 1200;

/// The media path of the `ratio` crop of the stored image at `path` (always JPEG).
pub fn crop_path(path: &str, (w, h): (u32, u32)) -> String {
    match path.rsplit_once('.') {
        Some((stem, _)) => format!("{stem}-{w}x{h}.jpg"),
        None => format!("{path}-{w}x{h}.jpg"),
    }
}

/// The centre box of an image `width`×`height` with the aspect `ratio` (x, y, w, h), and
/// the size the crop is stored at.
pub fn crop_geometry(
    width: u32,
    height: u32,
    (rw, rh): (u32, u32),
) -> ((u32, u32, u32, u32), (u32, u32)) {
    let (w, h) = (u64::from(width), u64::from(height));
    let (rw, rh) = (u64::from(rw), u64::from(rh));
    let (cw, ch) = if w * rh > h * rw {
        (h * rw / rh, h)
    } else {
        (w, w * rh / rw)
    };
    let (x, y) = ((w - cw) / 2, (h - ch) / 2);
    let out_w = cw.min(u64::from(CROP_WIDTH)).max(1);
    let out_h = ((out_w * rh + rw / 2) / rw).max(1);
    let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    ((n(x), n(y), n(cw), n(ch)), (n(out_w), n(out_h)))
}

pub fn webp_path(path: &str) -> String {
    match path.rsplit_once('.') {
        Some((stem, _)) => format!("{stem}.webp"),
        None => format!("{path}.webp"),
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

/// Lossy (VP8) WebP: `image` writes only lossless WebP, which for a photo is larger than the
/// JPEG it would replace. Alpha is dropped as for the JPEG, so both show the same picture.
fn encode_webp(image: &DynamicImage) -> Result<Vec<u8>> {
    let rgb = image.to_rgb8();
    let encoded = webp::Encoder::from_rgb(rgb.as_raw(), rgb.width(), rgb.height())
        .encode_simple(false, WEBP_QUALITY)
        .map_err(|e| ServiceError::Io(std::io::Error::other(format!("encoding WebP: {e:?}"))))?;
    Ok(encoded.to_vec())
}

/// The JPEG and the WebP of one picture, under `path` and its WebP twin.
fn encode_both(path: String, image: &DynamicImage) -> Result<[EncodedFile; 2]> {
    let webp = (webp_path(&path), encode_webp(image)?);
    Ok([(path, encode_jpeg(image)?), webp])
}

/// Media path and encoded bytes of one file to store.
type EncodedFile = (String, Vec<u8>);

/// Checks and converts an upload; returns the files to store, largest first, each JPEG
/// followed by its WebP.
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
    reader.limits(limits.clone());
    let unreadable = |_| refuse("could not be read as an image");
    // A decoder rather than `decode()`, because the orientation lives in metadata that
    // decoding consumes; the allocation is reserved against the limits first, as `decode()`
    // would.
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    limits.reserve(decoder.total_bytes()).map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    // Phones store a portrait photo as landscape pixels plus an EXIF orientation. The
    // re-encode drops that tag, so turn the pixels now, before widths and sizes are taken.
    image.apply_orientation(orientation);
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
    let mut files = Vec::from(encode_both(stored.path.clone(), &image)?);
    for width in VARIANT_WIDTHS.into_iter().filter(|w| *w < image.width()) {
        let variant = image.resize(width, u32::MAX, image::imageops::FilterType::Lanczos3);
        files.extend(encode_both(variant_path(&stored.path, width), &variant)?);
    }
    for ratio in CROP_RATIOS {
        let ((x, y, w, h), (out_w, out_h)) = crop_geometry(image.width(), image.height(), ratio);
        let crop = image.crop_imm(x, y, w, h).resize_exact(
            out_w,
            out_h,
            image::imageops::FilterType::Lanczos3,
        );
        files.push((crop_path(&stored.path, ratio), encode_jpeg(&crop)?));
    }
    Ok((stored, files))
}

/// The stored name of an upload without its extension: the month, then a hash of the
/// encoding version and the bytes, so the same upload encoded the same way is stored once.
fn upload_stem(bytes: &[u8], month: &str, encoding: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(encoding.as_bytes());
    hasher.update(bytes);
    let hash: String = hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{UPLOADS_PREFIX}{month}/{hash}")
}

impl Newsroom {
    /// Checks, converts and stores an uploaded image with its variants.
    pub async fn upload_image(&self, bytes: Vec<u8>, now: Timestamp) -> Result<UploadedImage> {
        let stem = upload_stem(&bytes, &now.strftime("%Y/%m").to_string(), ENCODING_VERSION);
        let (stored, files) = tokio::task::spawn_blocking(move || prepare(&bytes, &stem))
            .await
            .map_err(|e| ServiceError::Io(std::io::Error::other(e.to_string())))??;
        for (path, data) in files {
            let content_type = crate::media::content_type_of(&path);
            self.media().put(&path, &data, content_type).await?;
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use image::GenericImageView;

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
                "uploads/x/abc.webp",
                "uploads/x/abc-320.jpg",
                "uploads/x/abc-320.webp",
                "uploads/x/abc-640.jpg",
                "uploads/x/abc-640.webp",
                "uploads/x/abc-1024.jpg",
                "uploads/x/abc-1024.webp",
                "uploads/x/abc-16x9.jpg",
                "uploads/x/abc-4x3.jpg",
                "uploads/x/abc-1x1.jpg"
            ]
        );
        for (name, bytes) in files.iter().filter(|(n, _)| is_crop(n)) {
            let crop = image::load_from_memory(bytes).expect(name);
            let expected = match name.rsplit('-').next() {
                Some("16x9.jpg") => (1066, 600),
                Some("4x3.jpg") => (800, 600),
                _ => (600, 600),
            };
            assert_eq!((crop.width(), crop.height()), expected, "{name}");
        }
        assert!(
            files
                .iter()
                .filter(|(n, _)| n.ends_with(".jpg"))
                .all(|(_, b)| b.starts_with(&[0xff, 0xd8])),
            "JPEG"
        );
    }

    /// Something with detail in it, so the encoders have work to do, unlike a flat card.
    fn photo_like(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            let wave = ((x * 7 + y * 13) % 251) as u8;
            image::Rgb([wave, (x % 256) as u8, (y % 256) as u8])
        }))
    }

    fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), format)
            .expect("encode");
        out
    }

    #[test]
    fn every_jpeg_has_a_lossy_webp_twin_of_the_same_size() {
        let (_, files) = prepare(
            &encoded(&photo_like(1800, 1200), ImageFormat::Png),
            "uploads/x/abc",
        )
        .expect("ok");
        let jpegs: Vec<_> = files
            .iter()
            .filter(|(n, _)| n.ends_with(".jpg") && !is_crop(n))
            .collect();
        assert_eq!(jpegs.len(), 5, "the original and four variants");
        for (jpeg_path, jpeg) in jpegs {
            let twin = webp_path(jpeg_path);
            let (_, webp) = files
                .iter()
                .find(|(n, _)| *n == twin)
                .unwrap_or_else(|| panic!("no {twin}"));
            assert!(
                webp.starts_with(b"RIFF") && webp.get(8..12) == Some(b"WEBP".as_slice()),
                "{twin} is a WebP file"
            );
            // "VP8 " is the lossy bitstream; "VP8L" would be lossless, "VP8X" extended.
            assert_eq!(
                webp.get(12..16),
                Some(b"VP8 ".as_slice()),
                "{twin} is lossy"
            );
            let decoded =
                image::load_from_memory_with_format(webp, ImageFormat::WebP).expect("decodes");
            let original = image::load_from_memory(jpeg).expect("decodes");
            assert_eq!(decoded.dimensions(), original.dimensions(), "{twin}");
        }
    }

    /// A 200×100 JPEG whose EXIF says "rotate 90° clockwise to view" (orientation 6), as a
    /// phone held upright writes it; left half red, right half blue.
    fn sideways_phone_photo() -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(200, 100, |x, _| {
            if x < 100 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let plain = encoded(&DynamicImage::ImageRgb8(pixels), ImageFormat::Jpeg);
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian TIFF, first IFD at 8
        exif.extend_from_slice(&[0, 1]); // one entry
        // Orientation (0x0112), SHORT, one value: 6, padded to four bytes.
        exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        exif.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        let length = u16::try_from(exif.len() + 2).expect("small");
        let mut out = plain[..2].to_vec(); // SOI
        out.extend_from_slice(&[0xff, 0xe1]); // APP1
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&exif);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn a_portrait_phone_photo_is_stored_upright_without_its_exif() {
        let (stored, files) = prepare(&sideways_phone_photo(), "uploads/x/abc").expect("ok");
        assert_eq!((stored.width, stored.height), (100, 200));
        for (path, bytes) in &files {
            assert!(!bytes.windows(4).any(|w| w == b"Exif"), "{path} has EXIF");
            if is_crop(path) {
                continue;
            }
            let image = image::load_from_memory(bytes).expect("decodes").to_rgb8();
            assert_eq!(image.dimensions(), (100, 200), "{path}");
            // Turned clockwise, the left (red) half is now on top.
            let top = image.get_pixel(50, 20);
            let bottom = image.get_pixel(50, 180);
            assert!(top[0] > 200 && top[2] < 60, "{path}: top is {top:?}");
            assert!(
                bottom[2] > 200 && bottom[0] < 60,
                "{path}: bottom is {bottom:?}"
            );
        }
    }

    fn is_crop(path: &str) -> bool {
        CROP_RATIOS
            .iter()
            .any(|r| path == crop_path("uploads/x/abc.jpg", *r))
    }

    #[test]
    fn crops_take_the_centre_at_each_ratio_and_cap_their_width() {
        // A wide panorama: the crops take its middle, full height, and are scaled to 1200.
        assert_eq!(
            crop_geometry(4000, 1000, (16, 9)),
            ((1111, 0, 1777, 1000), (1200, 675))
        );
        assert_eq!(
            crop_geometry(4000, 1000, (1, 1)),
            ((1500, 0, 1000, 1000), (1000, 1000))
        );
        // A tall portrait: full width, the middle band.
        assert_eq!(
            crop_geometry(900, 1600, (4, 3)),
            ((0, 462, 900, 675), (900, 675))
        );
        assert_eq!(
            crop_path("uploads/a/b.jpg", (16, 9)),
            "uploads/a/b-16x9.jpg"
        );
    }

    #[test]
    fn a_new_encoding_gives_the_same_upload_a_new_name() {
        let bytes = png(8, 8);
        let stem = upload_stem(&bytes, "2026/11", ENCODING_VERSION);
        assert!(stem.starts_with("uploads/2026/11/"), "{stem}");
        assert_eq!(stem, upload_stem(&bytes, "2026/11", ENCODING_VERSION));
        assert_ne!(stem, upload_stem(&bytes, "2026/11", "another encoding"));
        assert_ne!(stem, upload_stem(&png(8, 9), "2026/11", ENCODING_VERSION));
    }

    #[test]
    fn a_renamed_executable_is_refused_by_its_content() {
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        let err = prepare(elf, "x").expect_err("refused");
        assert!(err.to_string().contains("not a JPEG, PNG or WebP"), "{err}");
    }
}
