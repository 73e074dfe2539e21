//! `newsdesk backup` and `newsdesk restore`: one tar archive (gzipped when its name ends in
//! `.gz`/`.tgz`) holding a consistent copy of the SQLite database, the local media, the
//! configuration file and a manifest with a checksum per file. The search index is never in
//! it: it is derived, and `serve` rebuilds it at the first start. Restore never writes into
//! a directory a server is using, and verifies everything before moving anything into place.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use newsdesk_core::Config;
use newsdesk_store::sqlite::{self, DATABASE_FILE};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What `format` says in every manifest; `FORMAT_VERSION` changes when the layout does.
const FORMAT: &str = "newsdesk-backup";
const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE_ENTRY: &str = "database/newsdesk.sqlite3";
const CONFIG_ENTRY: &str = "config/site.toml";
const MEDIA_PREFIX: &str = "media/";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub created_at: jiff::Timestamp,
    pub newsdesk_version: String,
    pub database: DatabasePart,
    pub media: MediaPart,
    /// The configuration file's entry, when the site was started with one.
    pub config: Option<String>,
    /// Every other entry of the archive, with its size and SHA-256.
    pub files: Vec<FileSum>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DatabasePart {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The snapshot's entry; none for PostgreSQL, which `pg_dump` backs up.
    pub file: Option<String>,
    pub migrations: Vec<MigrationName>,
    pub items: Option<i64>,
    pub comments: Option<i64>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MigrationName {
    pub version: i64,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MediaPart {
    /// `local` (copied into the archive) or `s3` (not copied; see `note`).
    pub store: String,
    pub files: usize,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileSum {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Writes the backup of the site in `data_dir` (configured by `config`, read from
/// `config_file` if one was given) to `to`, and returns its manifest.
pub async fn backup(
    data_dir: &Path,
    config: &Config,
    config_file: Option<&Path>,
    to: &Path,
) -> Result<Manifest> {
    let staging = tempfile_dir(to)?;
    let result = write_backup(data_dir, config, config_file, to, &staging.0).await;
    drop(staging);
    result
}

async fn write_backup(
    data_dir: &Path,
    config: &Config,
    config_file: Option<&Path>,
    to: &Path,
    staging: &Path,
) -> Result<Manifest> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    // The database first, then the media: an image is stored before the row that names it,
    // so every image the snapshot refers to is already on disk when the media are walked.
    let database = match &config.database.url {
        None => {
            if !data_dir.join(DATABASE_FILE).is_file() {
                bail!("{}: no newsdesk database there", data_dir.display());
            }
            let snapshot = staging.join(DATABASE_FILE);
            sqlite::snapshot(data_dir, &snapshot)
                .await
                .context("copying the database (VACUUM INTO)")?;
            let check = sqlite::inspect(&snapshot)
                .await
                .context("reading the database copy")?;
            if check.integrity != "ok" {
                bail!(
                    "the database copy fails its integrity check: {}",
                    check.integrity
                );
            }
            files.push((DATABASE_ENTRY.to_owned(), snapshot));
            DatabasePart {
                backend: "sqlite".into(),
                file: Some(DATABASE_ENTRY.into()),
                migrations: check
                    .migrations
                    .into_iter()
                    .map(|(version, name)| MigrationName { version, name })
                    .collect(),
                items: Some(check.items),
                comments: Some(check.comments),
                note: None,
            }
        }
        Some(_) => DatabasePart {
            backend: "postgres".into(),
            file: None,
            migrations: Vec::new(),
            items: None,
            comments: None,
            note: Some(
                "the PostgreSQL database is not in this archive: back it up with pg_dump \
                 (docs/operations.md) at the same time"
                    .into(),
            ),
        },
    };
    let media = match &config.media.s3 {
        None => {
            let root = data_dir.join("media");
            let mut found = Vec::new();
            if root.is_dir() {
                walk(&root, &root, &mut found)?;
            }
            // Only what the site could serve: anything else was not put there by newsdesk.
            found.retain(|relative| newsdesk_store::media::check_path(relative).is_ok());
            let count = found.len();
            for relative in found {
                files.push((format!("{MEDIA_PREFIX}{relative}"), root.join(&relative)));
            }
            MediaPart {
                store: "local".into(),
                files: count,
                note: None,
            }
        }
        Some(s3) => MediaPart {
            store: "s3".into(),
            files: 0,
            note: Some(format!(
                "the media are in the bucket {} and are not in this archive: back the bucket \
                 up with its own versioning or replication",
                s3.bucket
            )),
        },
    };
    if let Some(path) = config_file {
        files.push((CONFIG_ENTRY.to_owned(), path.to_owned()));
    }

    let partial = to.with_extension("partial");
    let written = write_archive(&partial, to, &files, database, media, config_file.is_some());
    match written {
        Ok(manifest) => {
            std::fs::rename(&partial, to)
                .with_context(|| format!("cannot move the archive to {}", to.display()))?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn write_archive(
    partial: &Path,
    to: &Path,
    files: &[(String, PathBuf)],
    database: DatabasePart,
    media: MediaPart,
    has_config: bool,
) -> Result<Manifest> {
    let out = BufWriter::new(
        File::create(partial).with_context(|| format!("cannot create {}", partial.display()))?,
    );
    let (manifest, out) = if gzipped_name(to) {
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let manifest = write_tar(&mut gz, files, database, media, has_config)?;
        (manifest, gz.finish()?)
    } else {
        let mut out = out;
        let manifest = write_tar(&mut out, files, database, media, has_config)?;
        (manifest, out)
    };
    // The archive is a backup only once it is on disk.
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(manifest)
}

fn write_tar(
    out: &mut dyn Write,
    files: &[(String, PathBuf)],
    database: DatabasePart,
    media: MediaPart,
    has_config: bool,
) -> Result<Manifest> {
    let mut archive = tar::Builder::new(out);
    let mut sums = Vec::new();
    for (entry, source) in files {
        // Hashed while read into the archive, so the sum is of exactly the bytes stored.
        let file =
            File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
        let bytes = file.metadata()?.len();
        let mut hashing = HashingReader::new(file);
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes);
        header.set_mode(0o644);
        header.set_mtime(jiff::Timestamp::now().as_second().max(0).unsigned_abs());
        archive
            .append_data(&mut header, entry, &mut hashing)
            .with_context(|| format!("cannot add {} to the archive", source.display()))?;
        if hashing.bytes != bytes {
            bail!("{} changed size while it was copied", source.display());
        }
        sums.push(FileSum {
            path: entry.clone(),
            bytes,
            sha256: hashing.finish(),
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        created_at: jiff::Timestamp::now(),
        newsdesk_version: env!("CARGO_PKG_VERSION").into(),
        database,
        media,
        config: has_config.then(|| CONFIG_ENTRY.to_owned()),
        files: sums,
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(manifest.created_at.as_second().max(0).unsigned_abs());
    archive.append_data(&mut header, MANIFEST, text.as_slice())?;
    archive.finish()?;
    Ok(manifest)
}

/// What `restore` put where.
pub struct Restored {
    pub manifest: Manifest,
    pub config_file: Option<PathBuf>,
}

/// Unpacks `archive` into `data_dir` after verifying it. `force` replaces the database, the
/// media and the search index a non-empty directory holds (and nothing else).
pub async fn restore(archive: &Path, data_dir: &Path, force: bool) -> Result<Restored> {
    let existing = occupied(data_dir)?;
    if !existing.is_empty() && !force {
        bail!(
            "{} is not empty (it holds {}); restore into an empty directory, or pass --force \
             to replace its database, media and search index",
            data_dir.display(),
            existing.join(", ")
        );
    }
    let staging = data_dir.join(format!(".restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let result = unpack_and_check(archive, &staging).await;
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if force {
        for name in [
            DATABASE_FILE.to_owned(),
            format!("{DATABASE_FILE}-wal"),
            format!("{DATABASE_FILE}-shm"),
        ] {
            remove_if_present(&data_dir.join(name))?;
        }
        for dir in ["media", "search"] {
            let path = data_dir.join(dir);
            if path.exists() {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    if manifest.database.file.is_some() {
        std::fs::rename(staging.join(DATABASE_ENTRY), data_dir.join(DATABASE_FILE))?;
    }
    if staging.join("media").is_dir() {
        std::fs::rename(staging.join("media"), data_dir.join("media"))?;
    }
    let config_file = match &manifest.config {
        Some(_) => {
            let target = data_dir.join("site.toml");
            std::fs::rename(staging.join(CONFIG_ENTRY), &target)?;
            Some(target)
        }
        None => None,
    };
    std::fs::remove_dir_all(&staging)?;
    Ok(Restored {
        manifest,
        config_file,
    })
}

async fn unpack_and_check(archive: &Path, staging: &Path) -> Result<Manifest> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut input = BufReader::new(file);
    let gzipped = {
        let mut magic = [0u8; 2];
        let n = input.read(&mut magic)?;
        n == 2 && magic == [0x1f, 0x8b]
    };
    let file = File::open(archive)?;
    let reader: Box<dyn Read> = if gzipped {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut unpacked: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest_text = None;
    let mut entries = tar::Archive::new(reader);
    for entry in entries
        .entries()
        .with_context(|| format!("{} is not a newsdesk backup", archive.display()))?
    {
        let mut entry = entry.context("the archive is damaged")?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry
            .path()
            .context("the archive holds a name that is not a path")?
            .to_string_lossy()
            .into_owned();
        if name == MANIFEST {
            let mut text = Vec::new();
            entry.read_to_end(&mut text)?;
            manifest_text = Some(text);
            continue;
        }
        if !(name == DATABASE_ENTRY || name == CONFIG_ENTRY || name.starts_with(MEDIA_PREFIX))
            || newsdesk_store::media::check_path(&name).is_err()
        {
            bail!("the archive holds {name}, which no newsdesk backup holds");
        }
        let target = staging.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut hashing = HashingReader::new(&mut entry);
        let mut out = File::create(&target)?;
        std::io::copy(&mut hashing, &mut out)
            .with_context(|| format!("the archive is damaged at {name}"))?;
        out.sync_all()?;
        let bytes = hashing.bytes;
        unpacked.insert(name, (bytes, hashing.finish()));
    }
    let manifest_text = manifest_text.with_context(|| {
        format!(
            "{} has no manifest: it is not a newsdesk backup, or it was cut short",
            archive.display()
        )
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_text).context("the backup's manifest is unreadable")?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        bail!(
            "this is a {} archive of format {}; this newsdesk reads {FORMAT} format {FORMAT_VERSION}",
            manifest.format,
            manifest.format_version
        );
    }
    for sum in &manifest.files {
        match unpacked.remove(&sum.path) {
            Some((bytes, sha256)) if bytes == sum.bytes && sha256 == sum.sha256 => {}
            Some(_) => bail!(
                "{} does not match its checksum: the archive is damaged",
                sum.path
            ),
            None => bail!("{} is missing from the archive", sum.path),
        }
    }
    if let Some(extra) = unpacked.keys().next() {
        bail!("the archive holds {extra}, which its manifest does not list");
    }
    if let Some(entry) = &manifest.database.file {
        let check = sqlite::inspect(&staging.join(entry))
            .await
            .context("reading the restored database")?;
        if check.integrity != "ok" {
            bail!(
                "the restored database fails its integrity check: {}",
                check.integrity
            );
        }
        if !check.unknown_migrations.is_empty() {
            bail!(
                "the backup was made by a newer newsdesk (migrations {}); restore it with that version",
                check.unknown_migrations.join(", ")
            );
        }
        if Some(check.items) != manifest.database.items
            || Some(check.comments) != manifest.database.comments
        {
            bail!("the restored database does not hold the items and comments its manifest counts");
        }
    }
    Ok(manifest)
}

/// What is in `data_dir` besides its lock file (the restore holds it).
fn occupied(data_dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(data_dir)
        .with_context(|| format!("cannot read {}", data_dir.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != crate::data_dir::LOCK_FILE {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Every file under `dir`, as `/`-separated paths relative to `root`, in a stable order;
/// half-written uploads (`.partial`) are left out.
pub fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, found)?;
        } else if kind.is_file() && path.extension().is_none_or(|e| e != "partial") {
            let relative = path
                .strip_prefix(root)
                .context("a media file outside the media directory")?;
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            found.push(parts.join("/"));
        }
    }
    Ok(())
}

/// Copies every media file under `root` (a site's `media/`) into `target`, reading each back
/// to compare; returns how many were copied. For `migrate-data`.
pub async fn copy_media(
    root: &Path,
    target: &dyn newsdesk_store::media::MediaStore,
) -> Result<usize> {
    let mut found = Vec::new();
    if root.is_dir() {
        walk(root, root, &mut found)?;
    }
    found.retain(|relative| newsdesk_store::media::check_path(relative).is_ok());
    for relative in &found {
        let bytes = std::fs::read(root.join(relative))
            .with_context(|| format!("cannot read media file {relative}"))?;
        target
            .put(
                relative,
                &bytes,
                newsdesk_store::media::content_type_of(relative),
            )
            .await
            .with_context(|| format!("copying media file {relative}"))?;
        let back = target
            .get(relative)
            .await
            .with_context(|| format!("reading back media file {relative}"))?;
        if back.is_none_or(|object| object.bytes != bytes) {
            bail!("media file {relative} did not read back as written");
        }
    }
    Ok(found.len())
}

fn gzipped_name(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".gz") || name.ends_with(".tgz")
}

/// A directory beside the archive for the database copy, removed when dropped. Beside it,
/// not in /tmp: the copy is as large as the database and /tmp is often small.
struct Staging(PathBuf);

fn tempfile_dir(to: &Path) -> Result<Staging> {
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let dir = parent.join(format!(".newsdesk-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(Staging(dir))
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
