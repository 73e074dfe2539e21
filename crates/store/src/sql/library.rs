//! The SQL behind `LibraryStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use sqlx::Row;

use super::{DbRow, SqlStore};
use crate::sql::{from_micros, to_micros};
use crate::{LibraryStore, Result, StoreError};

fn library_image_from_row(row: &DbRow) -> Result<crate::LibraryImage> {
    let side = |column: &str| -> Result<u32> {
        let v: i64 = row.try_get(column)?;
        u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} {v}")))
    };
    Ok(crate::LibraryImage {
        path: row.try_get("path")?,
        width: side("width")?,
        height: side("height")?,
        alt: row.try_get("alt")?,
        caption: row.try_get("caption")?,
        credit: row.try_get("credit")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

#[async_trait]
impl LibraryStore for SqlStore {
    async fn add_to_library(&self, image: &crate::LibraryImage) -> Result<()> {
        sqlx::query(
                "INSERT INTO media_library (path, width, height, alt, caption, credit, uploaded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (path) DO NOTHING",
            )
            .bind(&image.path)
            .bind(i64::from(image.width))
            .bind(i64::from(image.height))
            .bind(&image.alt)
            .bind(&image.caption)
            .bind(&image.credit)
            .bind(&image.uploaded_by)
            .bind(to_micros(image.created_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn library_image(&self, path: &str) -> Result<Option<crate::LibraryImage>> {
        let row = sqlx::query(
            "SELECT path, width, height, alt, caption, credit, uploaded_by, created_at
                 FROM media_library WHERE path = $1",
        )
        .bind(path)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(library_image_from_row).transpose()
    }

    async fn library(
        &self,
        words: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<crate::LibraryImage>, u64)> {
        let pattern = words.map(crate::sql::contains_pattern);
        let filter =
            "($1 IS NULL OR LOWER(alt) LIKE $1 ESCAPE '\\' OR LOWER(caption) LIKE $1 ESCAPE '\\'
                           OR LOWER(credit) LIKE $1 ESCAPE '\\')";
        let mut conn = self.reader.acquire().await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM media_library WHERE {filter}"
        )))
        .bind(pattern.as_deref())
        .fetch_one(&mut *conn)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT path, width, height, alt, caption, credit, uploaded_by, created_at
                 FROM media_library WHERE {filter} ORDER BY id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(pattern.as_deref())
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *conn)
        .await?;
        let images = rows
            .iter()
            .map(library_image_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((images, u64::try_from(total).unwrap_or(0)))
    }
}
