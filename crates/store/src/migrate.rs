//! Schema migrations, kept per backend under the same numbers and names, applied in order
//! inside a transaction each and recorded with a checksum so that an edited migration is
//! caught instead of silently diverging between sites.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    #[serde(skip)]
    pub sql: &'static str,
}

impl Migration {
    /// FNV-1a: stable across builds and platforms, which is all a checksum of our own files
    /// needs.
    pub fn checksum(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.sql.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $file:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $dir, "/", $file, ".sql")),
        }),*]
    };
}
pub(crate) use migrations;
