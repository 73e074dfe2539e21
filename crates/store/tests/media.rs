//! Media bytes on both implementations: the local directory, and S3-compatible object
//! storage against a real moto server started here.

#[path = "../../../tests/support/moto.rs"]
mod moto;

use moto::Moto;
use newsdesk_store::media::{LocalMedia, MediaError, MediaStore, S3Media, S3Settings};

const JPEG: &[u8] = b"\xff\xd8\xff\xe0 not really an image, but bytes are bytes";

async fn roundtrip(media: &dyn MediaStore) {
    media
        .put("demo/hero-harbour.jpg", JPEG, "image/jpeg")
        .await
        .expect("put");
    let got = media
        .get("demo/hero-harbour.jpg")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.bytes, JPEG);
    assert_eq!(got.content_type, "image/jpeg");
    media
        .put("demo/hero-harbour.jpg", b"v2", "image/jpeg")
        .await
        .expect("replace");
    assert_eq!(
        media
            .get("demo/hero-harbour.jpg")
            .await
            .expect("get")
            .expect("exists")
            .bytes,
        b"v2"
    );
    assert_eq!(media.get("demo/missing.jpg").await.expect("get"), None);
    for bad in ["../escape.jpg", "/abs.jpg", "a//b.jpg"] {
        assert!(
            matches!(
                media.put(bad, JPEG, "image/jpeg").await,
                Err(MediaError::InvalidPath(_))
            ),
            "{bad}"
        );
        assert!(
            matches!(media.get(bad).await, Err(MediaError::InvalidPath(_))),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn local_media_round_trips_and_stays_in_its_directory() {
    let dir = tempfile::tempdir().expect("dir");
    roundtrip(&LocalMedia::new(dir.path().join("media"))).await;
    assert!(dir.path().join("media/demo/hero-harbour.jpg").is_file());
    assert!(!dir.path().join("escape.jpg").exists());
}

#[tokio::test]
async fn s3_media_round_trips_against_a_real_s3_server() {
    let Some(moto) = Moto::start() else { return };
    let media = S3Media::new(&S3Settings {
        endpoint: moto.endpoint.clone(),
        bucket: "newsdesk-media".into(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        path_style: true,
    })
    .expect("settings");
    media.create_bucket().await.expect("bucket");
    roundtrip(&media).await;
}
