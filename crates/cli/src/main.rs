//! The `newsdesk` binary: parses the command line, loads the configuration, opens the store
//! and wires the services to the web faces. Everything here is plumbing; behaviour lives
//! in the library crates.

mod backup;
mod data_dir;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use newsdesk_core::{AccountInput, Config, Role};
use newsdesk_services::demo::DemoOutcome;
use newsdesk_services::import::ImportFile;
use newsdesk_services::{Newsroom, Store};
use newsdesk_store::NewerSchema;
use newsdesk_store::media::{LocalMedia, MediaStore, S3Media, S3Settings};
use newsdesk_store::postgres::PgStore;
use newsdesk_store::sqlite::SqliteStore;
use newsdesk_web::{AppState, Theme};
use tokio::sync::Notify;

#[derive(Parser)]
#[command(
    name = "newsdesk",
    version,
    about = "A news publishing platform: the site, the desk and the API in one binary."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(SiteArgs),
    /// Copy a whole site from SQLite to an empty PostgreSQL database, verified by counts and
    /// checksums; a failure leaves the target as empty as it was.
    MigrateData {
        /// The SQLite site's data directory.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database (`postgres://…`); it must hold no site yet.
        #[arg(long)]
        to: String,
        /// The configuration the PostgreSQL instances will run with: with `[media.s3]`, the
        /// media files are copied into that bucket.
        #[arg(long, env = "NEWSDESK_CONFIG")]
        config: Option<PathBuf>,
        /// The data directory the PostgreSQL instances will keep media in (without
        /// `[media.s3]`); by default the source's own, where the media already are.
        #[arg(long)]
        to_data_dir: Option<PathBuf>,
    },
    /// Manage staff accounts.
    User {
        #[command(flatten)]
        site: SiteArgs,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Rebuild this instance's search index (in the data directory) from the database.
    /// Stop the server on this data directory first; a server also checks its index at start.
    Reindex(SiteArgs),
    /// Write a consistent backup of a running site to one archive: the SQLite database
    /// (copied with VACUUM INTO while the server keeps writing), the media, the configuration
    /// file and a manifest with checksums. PostgreSQL is backed up with pg_dump beside it.
    Backup {
        #[command(flatten)]
        site: SiteArgs,
        /// The archive to write (tar; gzipped when the name ends in .gz or .tgz).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data directory, after checking its checksums, the
    /// database's integrity and its migrations. The search index is rebuilt at the next start.
    Restore {
        /// The archive `newsdesk backup` wrote.
        file: PathBuf,
        /// The data directory to restore into; it must be empty, and no server may use it.
        #[arg(long)]
        data_dir: PathBuf,
        /// Restore into a directory that is not empty: its database, media and search index
        /// are deleted first and its site.toml replaced by the backup's (nothing else).
        #[arg(long)]
        force: bool,
    },
    /// Import authors and items from a TOML or JSON file (same language and slug replaces).
    Import {
        #[command(flatten)]
        site: SiteArgs,
        /// The file to import.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add an account. The password is read from NEWSDESK_USER_PASSWORD, or else from the
    /// first line of standard input (never from the command line, where `ps` shows it).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// contributor, editor, moderator or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// List the accounts.
    List,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "the role must be contributor, editor, moderator or admin".into())
}

fn read_password() -> Result<String> {
    if let Ok(password) = std::env::var("NEWSDESK_USER_PASSWORD") {
        return Ok(password);
    }
    eprint!("Password: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[derive(Args)]
struct SiteArgs {
    /// Directory holding the database and media.
    #[arg(
        long,
        env = "NEWSDESK_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    data_dir: PathBuf,
    /// Site configuration (TOML). Without it the built-in settings are used, or the demo
    /// edition's with --demo. NEWSDESK_SECTION__KEY variables override single keys.
    #[arg(long, env = "NEWSDESK_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// PostgreSQL to use instead of SQLite in the data directory (`postgres://…`); the
    /// same as `database.url` in the config, which it overrides.
    #[arg(long, env = "NEWSDESK_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Open a database that a newer newsdesk has migrated; refused by default, because this
    /// binary would serve tables and rules it does not know. Meant for a rollback you chose.
    #[arg(long, env = "NEWSDESK_ALLOW_NEWER_SCHEMA", global = true)]
    allow_newer_schema: bool,
}

impl SiteArgs {
    fn config(&self, demo: bool) -> Result<Arc<Config>> {
        let mut config = load_config(self.config.as_deref(), demo)?;
        if let Some(url) = &self.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!("--database-url must start with postgres://");
            }
            Arc::make_mut(&mut config).database.url = Some(url.clone());
        }
        Ok(config)
    }

    fn newer_schema(&self) -> NewerSchema {
        if self.allow_newer_schema {
            NewerSchema::Allow
        } else {
            NewerSchema::Refuse
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    site: SiteArgs,
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, env = "NEWSDESK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load the demo edition into an empty site (never touches a site with content).
    #[arg(long)]
    demo: bool,
}

/// mimalloc instead of glibc's malloc: a story page rendered on a miss makes thousands of
/// small allocations across two worker threads, and glibc's `malloc_consolidate` and
/// `unlink_chunk` were a tenth of the miss in a profile (BENCHMARKS.md, "Cache miss").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `NEWSDESK_LOG` is a tracing filter (default `info`); `NEWSDESK_LOG_FORMAT=json` writes
/// one JSON object per line for log collectors.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEWSDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("NEWSDESK_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(site) => {
            let config = site.config(false)?;
            let (store, _) = open_store(&site.data_dir, config, site.newer_schema()).await?;
            drop(store);
            Ok(())
        }
        Command::MigrateData {
            from,
            to,
            config,
            to_data_dir,
        } => {
            if !from.join(newsdesk_store::sqlite::DATABASE_FILE).is_file() {
                bail!("--from {}: no newsdesk database there", from.display());
            }
            if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
                bail!("--to must be a postgres:// address");
            }
            let source = SqliteStore::open(&from)
                .await
                .with_context(|| format!("cannot open {}", from.display()))?;
            let target = PgStore::connect(&to)
                .await
                .with_context(|| format!("cannot connect to {}", redact(&to)))?;
            let target_config = load_config(config.as_deref(), false)?;
            // Media first: putting a file twice is harmless, so a failure here leaves the
            // database untouched and the command can simply be run again.
            let media_target = match (&target_config.media.s3, &to_data_dir) {
                (Some(s3), _) => Some((
                    media_store(&target_config, &from)?,
                    format!("the bucket {}", s3.bucket),
                )),
                (None, Some(dir)) if dir != &from => Some((
                    media_store(&target_config, dir)?,
                    dir.join("media").display().to_string(),
                )),
                _ => None,
            };
            let media_copied = match &media_target {
                Some((media, _)) => {
                    Some(backup::copy_media(&from.join("media"), media.as_ref()).await?)
                }
                None => None,
            };
            let copied = newsdesk_store::copy::copy_site(&source, &target).await?;
            match (&media_target, media_copied) {
                (Some((_, place)), Some(files)) => {
                    println!("copied {files} media file(s) to {place}, read back and compared")
                }
                _ => println!(
                    "media stay in {}: serve with --data-dir {} or configure [media.s3] and run again with --config",
                    from.join("media").display(),
                    from.display()
                ),
            }
            println!("copied {} to {}, verified:", from.display(), redact(&to));
            for table in copied {
                println!(
                    "  {:<14} {:>8} rows  checksum {}",
                    table.name, table.rows, table.checksum
                );
            }
            Ok(())
        }
        Command::User { site, action } => {
            let config = site.config(false)?;
            let (_, newsroom) = open_store(&site.data_dir, config, site.newer_schema()).await?;
            let now = jiff::Timestamp::now();
            match action {
                UserAction::Add { email, name, role } => {
                    let password = read_password()?;
                    let account = newsroom
                        .add_account(
                            &AccountInput {
                                email,
                                name,
                                role,
                                password,
                            },
                            "command line",
                            now,
                        )
                        .await?;
                    println!(
                        "added {} <{}> as {}",
                        account.name,
                        account.email,
                        account.role.as_str()
                    );
                }
                UserAction::Disable { email } => {
                    let account = newsroom
                        .set_account_disabled(&email, true, "command line", now)
                        .await?;
                    println!("disabled {}; their sessions have ended", account.email);
                }
                UserAction::Enable { email } => {
                    let account = newsroom
                        .set_account_disabled(&email, false, "command line", now)
                        .await?;
                    println!("enabled {}", account.email);
                }
                UserAction::List => {
                    for a in newsroom.accounts().await? {
                        let state = if a.disabled { " (disabled)" } else { "" };
                        println!("{:<11} {} <{}>{state}", a.role.as_str(), a.name, a.email);
                    }
                }
            }
            Ok(())
        }
        Command::Reindex(site) => {
            let config = site.config(false)?;
            let (store, _) = open_store(&site.data_dir, config, site.newer_schema()).await?;
            let started = std::time::Instant::now();
            let (search, items) = newsdesk_services::search::Search::rebuild(&site.data_dir, store)
                .await
                .context("reindex")?;
            let checkpoint = search.checkpoint().await;
            println!(
                "indexed {items} published item(s) up to event {} in {:.1} s into {}",
                checkpoint.cursor,
                started.elapsed().as_secs_f64(),
                newsdesk_services::search::Search::index_dir(&site.data_dir).display()
            );
            Ok(())
        }
        Command::Backup { site, to } => {
            let config = site.config(false)?;
            let manifest =
                backup::backup(&site.data_dir, &config, site.config.as_deref(), &to).await?;
            print_backup(&to, &manifest);
            Ok(())
        }
        Command::Restore {
            file,
            data_dir,
            force,
        } => {
            // Held to the end: no server may start on the directory while it is filled.
            let _lock = data_dir::lock(&data_dir)?;
            let restored = backup::restore(&file, &data_dir, force).await?;
            print_restored(&data_dir, &restored);
            Ok(())
        }
        Command::Import { site, file } => {
            let config = site.config(false)?;
            let contents =
                ImportFile::read(&file).with_context(|| format!("import {}", file.display()))?;
            let (_, newsroom) = open_store(&site.data_dir, config, site.newer_schema()).await?;
            let report = newsroom
                .import(&contents, "import")
                .await
                .with_context(|| format!("import {}", file.display()))?;
            println!(
                "imported {} author(s); {} item(s) created, {} updated",
                report.authors, report.created, report.updated
            );
            Ok(())
        }
    }
}

fn load_config(path: Option<&Path>, demo: bool) -> Result<Arc<Config>> {
    let (text, origin) = match path {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?,
            path.display().to_string(),
        ),
        None if demo => (
            Config::demo_toml().to_owned(),
            "the demo configuration".to_owned(),
        ),
        None => (
            Config::default_toml().to_owned(),
            "the built-in configuration".to_owned(),
        ),
    };
    let config = Config::parse(&text, &origin, std::env::vars())?;
    Ok(Arc::new(config))
}

/// Opens the configured database (PostgreSQL, or SQLite in `data_dir`, creating it if
/// needed) and applies migrations.
async fn open_store(
    data_dir: &Path,
    config: Arc<Config>,
    newer: NewerSchema,
) -> Result<(Arc<dyn Store>, Arc<Newsroom>)> {
    let store: Arc<dyn Store> = match &config.database.url {
        Some(url) => Arc::new(
            PgStore::connect(url)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?,
        ),
        None => Arc::new({
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
            SqliteStore::open(data_dir)
                .await
                .with_context(|| format!("cannot open the database in {}", data_dir.display()))?
        }),
    };
    let applied = store
        .migrate_with(newer)
        .await
        .context("migrating the database")?;
    for m in &applied {
        tracing::info!(version = m.version, name = m.name, "migration applied");
    }
    let media = media_store(&config, data_dir)?;
    let mailer = newsdesk_services::mail::Mailer::new(&config.mail, data_dir)
        .context("setting up mail to readers")?;
    tracing::debug!(to = %mailer.describe(), "mail to readers");
    let newsroom = Arc::new(Newsroom::new(store.clone(), media, config).with_mailer(mailer));
    newsroom
        .load_sections()
        .await
        .context("loading the site's sections")?;
    Ok((store, newsroom))
}

fn print_backup(to: &Path, manifest: &backup::Manifest) {
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backed up to {} ({bytes} bytes in {} files):",
        to.display(),
        manifest.files.len()
    );
    if let (Some(items), Some(comments)) = (&manifest.database.items, &manifest.database.comments) {
        println!(
            "  database: {items} item(s), {comments} comment(s), {} migration(s) applied",
            manifest.database.migrations.len()
        );
    }
    if let Some(note) = &manifest.database.note {
        println!("  database: {note}");
    }
    match &manifest.media.note {
        Some(note) => println!("  media: {note}"),
        None => println!("  media: {} file(s)", manifest.media.files),
    }
    if manifest.config.is_some() {
        println!("  configuration file included");
    }
}

fn print_restored(data_dir: &Path, restored: &backup::Restored) {
    let manifest = &restored.manifest;
    println!(
        "restored the backup of {} into {}, checksums verified:",
        manifest.created_at,
        data_dir.display()
    );
    match (&manifest.database.items, &manifest.database.comments) {
        (Some(items), Some(comments)) => println!(
            "  database: {items} item(s), {comments} comment(s), integrity ok, migrations up to {}",
            manifest
                .database
                .migrations
                .last()
                .map_or("none", |m| m.name.as_str())
        ),
        _ => println!(
            "  database: not in this backup ({}); restore it with pg_restore",
            manifest.database.note.as_deref().unwrap_or("PostgreSQL")
        ),
    }
    match &manifest.media.note {
        Some(note) => println!("  media: {note}"),
        None => println!("  media: {} file(s)", manifest.media.files),
    }
    if let Some(config) = &restored.config_file {
        println!(
            "  configuration: {} (start with --config {})",
            config.display(),
            config.display()
        );
    }
    println!("  search index: rebuilt from the database at the first start");
}

/// The configured media store: the `[media.s3]` bucket, or `data_dir/media`.
fn media_store(config: &Config, data_dir: &Path) -> Result<Arc<dyn MediaStore>> {
    Ok(match &config.media.s3 {
        Some(s3) => Arc::new(
            S3Media::new(&S3Settings {
                endpoint: s3.endpoint.clone(),
                bucket: s3.bucket.clone(),
                region: s3.region.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: s3.secret_access_key.clone(),
                path_style: s3.path_style,
            })
            .context("config key `media.s3`")?,
        ),
        None => Arc::new(LocalMedia::new(data_dir.join("media"))),
    })
}

/// A database URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let config = args.site.config(args.demo)?;
    let theme = Theme::load(
        config.theme.dir.as_deref(),
        &config.site.default_language,
        config.site.logo.as_deref(),
    )
    .context("loading the theme")?;
    // Before anything touches the directory: a second server on it gets one clear sentence.
    let _lock = data_dir::lock(&args.site.data_dir)?;
    let (store, newsroom) = open_store(
        &args.site.data_dir,
        config.clone(),
        args.site.newer_schema(),
    )
    .await?;

    if args.demo {
        match newsroom.load_demo(jiff::Timestamp::now()).await? {
            DemoOutcome::Loaded { items } => tracing::info!(items, "demo edition loaded"),
            DemoOutcome::SkippedNotEmpty => {
                tracing::info!("the site already has content; the demo edition was not loaded")
            }
        }
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let base_url = match &config.site.base_url {
        Some(url) => url.clone(),
        None => base_url_for(local)?,
    };

    let stop = Arc::new(Notify::new());
    store.announce_events(newsroom.written());
    let cursor = store.last_event_id().await?;
    // Checked after the feed's cursor is read and before anything is served: whatever the
    // feed will not deliver, the check has already applied.
    let (search, check) =
        newsdesk_services::search::Search::open(&args.site.data_dir, store.clone())
            .await
            .context("checking the search index")?;
    match &check {
        newsdesk_services::search::StartCheck::Current { items } => {
            tracing::info!(items, "search index is current")
        }
        newsdesk_services::search::StartCheck::CaughtUp { events, items } => {
            tracing::info!(events, items, "search index caught up with the event log")
        }
        newsdesk_services::search::StartCheck::Rebuilt { reason, items } => {
            tracing::info!(%reason, items, "search index rebuilt from the database")
        }
    }
    newsroom.attach_search(search);
    let state = Arc::new(AppState::new(newsroom, theme, base_url.clone()));
    newsdesk_web::start_background(&state, cursor, &stop);
    let app = newsdesk_web::router(state.clone());

    if let Some(token) = state
        .newsroom
        .setup_token_if_needed(jiff::Timestamp::now())
        .await?
    {
        // Printed, never logged to a collector: whoever holds it becomes the admin.
        println!(
            "no admin yet: create one within 24 hours at {base_url}/desk/setup/{token} \
             (or run `newsdesk user add --role admin`)"
        );
    }
    tracing::info!(address = %local, %base_url, "newsdesk is serving");
    // Tests and scripts read this line to learn the port when started with port 0.
    println!("listening on http://{local}");
    // Live streams never end on their own: close them when shutdown begins, or the graceful
    // shutdown would wait for every subscriber to hang up.
    let live = state.live.clone();
    let shutdown = async move {
        shutdown_signal().await;
        live.close();
    };
    newsdesk_web::serve(listener, app, &config.server, shutdown).await?;
    stop.notify_waiters();
    tracing::info!("stopped");
    Ok(())
}

/// Absolute links need a host: the configured base URL, or the address we listen on. An
/// unspecified address (0.0.0.0) names no host a reader can use, so it must be configured.
fn base_url_for(local: SocketAddr) -> Result<String> {
    if local.ip().is_unspecified() {
        bail!(
            "listening on {local} (all interfaces) needs site.base_url set (for example \
             NEWSDESK_SITE__BASE_URL=https://news.example.org), so that links name a real host"
        );
    }
    Ok(format!("http://{local}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
