//! The data directory's lock: one server (or restore) at a time per directory. Two servers
//! on one directory would fight over the search index's single writer and, on SQLite, share
//! a database each thinks it owns; the lock turns that into one clear sentence at start.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Name of the lock file inside the data directory; it holds the owner's process id.
pub const LOCK_FILE: &str = "newsdesk.lock";

/// Held for as long as the process owns the directory; the operating system releases the
/// lock when the process ends, however it ends, so a crash never leaves a stale lock.
pub struct DataDirLock {
    _file: File,
}

/// Takes the directory's exclusive lock (creating the directory if needed), or fails
/// naming the process that holds it.
pub fn lock(data_dir: &Path) -> Result<DataDirLock> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    // Not truncated on open: the pid inside belongs to whoever holds the lock.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let pid = holder_pid(&mut file).unwrap_or_else(|| "unknown".to_owned());
            bail!(
                "another newsdesk is already running on {} (pid {pid}); stop it first, or give this one its own --data-dir",
                data_dir.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(DataDirLock { _file: file })
}

/// The holder's pid. It writes it right after taking the lock, so a start that lost the race
/// by a moment may find the file still empty: look again briefly before giving up.
fn holder_pid(file: &mut File) -> Option<String> {
    for _ in 0..20 {
        let mut holder = String::new();
        if file.seek(SeekFrom::Start(0)).is_ok() && file.read_to_string(&mut holder).is_ok() {
            let pid = holder.trim();
            if !pid.is_empty() {
                return Some(pid.to_owned());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}
