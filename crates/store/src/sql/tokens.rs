//! The SQL behind `TokenStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::{Account, Role};
use sqlx::Row;

use super::{DbRow, SqlStore};
use crate::sql::{from_micros, to_micros};
use crate::{Result, StoreError, TokenStore};

const API_TOKEN_SELECT: &str =
    "SELECT t.id, t.kind, t.name, t.account_id, a.email AS account_email,
            t.role, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN accounts a ON a.id = t.account_id";
/// How stale a token's "last used" may be.
const TOKEN_USE_PRECISION_SECS: i64 = 60;

fn api_token_from_row(row: &DbRow) -> Result<crate::ApiToken> {
    let kind: String = row.try_get("kind")?;
    let role: Option<String> = row.try_get("role")?;
    let time = |column: &str| -> Result<Option<Timestamp>> {
        row.try_get::<Option<i64>, _>(column)?
            .map(from_micros)
            .transpose()
    };
    Ok(crate::ApiToken {
        id: row.try_get("id")?,
        kind: newsdesk_core::TokenKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind}")))?,
        name: row.try_get("name")?,
        account_id: row.try_get("account_id")?,
        account_email: row.try_get("account_email")?,
        role: match role {
            Some(role) => Some(
                Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
            ),
            None => None,
        },
        created_at: from_micros(row.try_get("created_at")?)?,
        last_used_at: time("last_used_at")?,
        revoked_at: time("revoked_at")?,
    })
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn create_api_token(
        &self,
        token: &crate::NewApiToken<'_>,
        actor: &str,
        now: Timestamp,
    ) -> Result<crate::ApiToken> {
        let mut tx = self.write_transaction().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (kind, name, token_hash, account_id, role, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token.kind.as_str())
        .bind(token.name)
        .bind(token.token_hash)
        .bind(token.account_id)
        .bind(token.role.map(Role::as_str))
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await?;
        let detail = match token.role {
            Some(role) => format!(
                "{} token \"{}\" ({})",
                token.kind.as_str(),
                token.name,
                role.as_str()
            ),
            None => format!("{} key \"{}\"", token.kind.as_str(), token.name),
        };
        super::events::audit_row(
            &mut tx,
            actor,
            "created API token",
            &format!("token:{id}"),
            &detail,
            now,
        )
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{API_TOKEN_SELECT} WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let created = api_token_from_row(&row)?;
        tx.commit().await?;
        Ok(created)
    }

    async fn api_tokens(&self, account_id: Option<i64>) -> Result<Vec<crate::ApiToken>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{API_TOKEN_SELECT} WHERE ($1 IS NULL OR (t.account_id = $1 AND t.kind = 'staff'))
                 ORDER BY t.id DESC"
        )))
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(api_token_from_row).collect()
    }

    async fn api_token(&self, id: i64) -> Result<Option<crate::ApiToken>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{API_TOKEN_SELECT} WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(api_token_from_row).transpose()
    }

    async fn count_live_api_tokens(&self, account_id: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE account_id = $1 AND revoked_at IS NULL",
        )
        .bind(account_id)
        .fetch_one(&self.reader)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn revoke_api_token(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let name: Option<String> = sqlx::query_scalar(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING name",
            )
            .bind(id)
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await?;
        let name = name.ok_or(StoreError::NotFound)?;
        super::events::audit_row(
            &mut tx,
            actor,
            "revoked API token",
            &format!("token:{id}"),
            &format!("\"{name}\""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_api_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(crate::ApiToken, Account)>> {
        // One read for the token and its account: this runs on every API request that
        // carries a staff token or a read key.
        let row = sqlx::query(
            "SELECT t.id, t.kind, t.name, t.account_id, a.email AS account_email, t.role,
                        t.created_at, t.last_used_at, t.revoked_at,
                        a.name AS account_name, a.role AS account_role,
                        a.disabled AS account_disabled, a.created_at AS account_created_at
                 FROM api_tokens t JOIN accounts a ON a.id = t.account_id
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token = api_token_from_row(&row)?;
        let role: String = row.try_get("account_role")?;
        let account = Account {
            id: token.account_id,
            email: token.account_email.clone(),
            name: row.try_get("account_name")?,
            role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
            disabled: row.try_get("account_disabled")?,
            created_at: from_micros(row.try_get("account_created_at")?)?,
        };
        // A write per request would make every API read a write; once a minute tells
        // the desk what it needs (is this token still in use?).
        let stale = token.last_used_at.is_none_or(|at| {
            now.duration_since(at) >= jiff::SignedDuration::from_secs(TOKEN_USE_PRECISION_SECS)
        });
        if stale {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(token.id)
                .bind(to_micros(now))
                .execute(&self.writer)
                .await?;
        }
        Ok(Some((token, account)))
    }

    async fn prune_revoked_api_tokens(&self, revoked_before: Timestamp) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM api_tokens WHERE revoked_at IS NOT NULL AND revoked_at < $1")
                .bind(to_micros(revoked_before))
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}
