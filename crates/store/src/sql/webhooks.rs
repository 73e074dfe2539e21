//! The SQL behind `WebhookStore`, written once for both backends (see `sql/mod.rs`).

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;

use super::{DbRow, SqlStore};
use crate::sql::{from_micros, to_micros};
use crate::{Result, StoreError, WebhookStore};

/// An endpoint with how its latest delivery went.
const WEBHOOK_SELECT: &str = "SELECT w.id, w.url, w.description, w.events, w.secret, w.enabled, w.created_at,
            (SELECT d.state FROM webhook_deliveries d WHERE d.webhook_id = w.id
             ORDER BY d.id DESC LIMIT 1) AS last_state,
            (SELECT a.started_at FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
             WHERE d.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) AS last_attempt_at,
            (SELECT a.status_code FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
             WHERE d.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) AS last_status
        FROM webhooks w";

fn webhook_events_text(events: &[newsdesk_core::webhook::WebhookEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn status_code(value: Option<i64>) -> Result<Option<u16>> {
    value
        .map(|v| u16::try_from(v).map_err(|_| StoreError::Corrupt(format!("status code {v}"))))
        .transpose()
}

fn delivery_state(s: &str) -> Result<crate::DeliveryState> {
    crate::DeliveryState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("delivery state {s}")))
}

fn webhook_from_row(row: &DbRow) -> Result<crate::Webhook> {
    let events: String = row.try_get("events")?;
    let last_state: Option<String> = row.try_get("last_state")?;
    let last_delivery = match last_state {
        Some(state) => Some(crate::LastDelivery {
            state: delivery_state(&state)?,
            attempted_at: row
                .try_get::<Option<i64>, _>("last_attempt_at")?
                .map(from_micros)
                .transpose()?,
            status_code: status_code(row.try_get("last_status")?)?,
        }),
        None => None,
    };
    Ok(crate::Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        events: events
            .split_whitespace()
            .map(|e| {
                newsdesk_core::webhook::WebhookEvent::parse(e)
                    .ok_or_else(|| StoreError::Corrupt(format!("webhook event {e}")))
            })
            .collect::<Result<_>>()?,
        secret: row.try_get("secret")?,
        enabled: row.try_get("enabled")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        last_delivery,
    })
}

fn delivery_from_row(row: &DbRow) -> Result<crate::Delivery> {
    let event: String = row.try_get("event_type")?;
    let state: String = row.try_get("state")?;
    Ok(crate::Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event_id: row.try_get("event_id")?,
        event: newsdesk_core::webhook::WebhookEvent::parse(&event)
            .ok_or_else(|| StoreError::Corrupt(format!("webhook event {event}")))?,
        payload: row.try_get("payload")?,
        replay_of: row.try_get("replay_of")?,
        state: delivery_state(&state)?,
        next_attempt_at: from_micros(row.try_get("next_attempt_at")?)?,
        created_at: from_micros(row.try_get("created_at")?)?,
        attempts: Vec::new(),
    })
}

fn attempt_from_row(row: &DbRow) -> Result<crate::Attempt> {
    let attempt: i64 = row.try_get("attempt")?;
    let duration: i64 = row.try_get("duration_ms")?;
    Ok(crate::Attempt {
        attempt: u32::try_from(attempt)
            .map_err(|_| StoreError::Corrupt(format!("attempt {attempt}")))?,
        started_at: from_micros(row.try_get("started_at")?)?,
        duration_ms: u64::try_from(duration).unwrap_or(0),
        status_code: status_code(row.try_get("status_code")?)?,
        response_excerpt: row.try_get("response_excerpt")?,
        error: row.try_get("error")?,
    })
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(
        &self,
        webhook: &newsdesk_core::webhook::ValidWebhook,
        secret: &str,
        max: u64,
        change: crate::WebhookChange<'_>,
    ) -> Result<crate::Webhook> {
        let mut tx = self.write_transaction().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks")
            .fetch_one(&mut *tx)
            .await?;
        if u64::try_from(count).unwrap_or(0) >= max {
            return Err(StoreError::Limit {
                what: "webhooks",
                max,
            });
        }
        let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhooks (url, description, events, secret, enabled, after_event_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, TRUE, (SELECT COALESCE(MAX(id), 0) FROM events), $5, $5)
                 RETURNING id",
            )
            .bind(&webhook.url)
            .bind(&webhook.description)
            .bind(webhook_events_text(&webhook.events))
            .bind(secret)
            .bind(to_micros(change.now))
            .fetch_one(&mut *tx)
            .await?;
        super::events::audit_row(
            &mut tx,
            change.actor,
            "registered the webhook",
            &format!("webhook:{id}"),
            &webhook.url,
            change.now,
        )
        .await?;
        tx.commit().await?;
        self.webhook(id).await?.ok_or(StoreError::NotFound)
    }

    async fn webhooks(&self) -> Result<Vec<crate::Webhook>> {
        let sql = sqlx::AssertSqlSafe(format!("{WEBHOOK_SELECT} ORDER BY w.id"));
        let rows = sqlx::query(sql).fetch_all(&self.reader).await?;
        rows.iter().map(webhook_from_row).collect()
    }

    async fn webhook(&self, id: i64) -> Result<Option<crate::Webhook>> {
        let sql = sqlx::AssertSqlSafe(format!("{WEBHOOK_SELECT} WHERE w.id = $1"));
        let row = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    async fn update_webhook(
        &self,
        id: i64,
        webhook: &newsdesk_core::webhook::ValidWebhook,
        change: crate::WebhookChange<'_>,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let changed = sqlx::query(
                "UPDATE webhooks SET url = $2, description = $3, events = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(&webhook.url)
            .bind(&webhook.description)
            .bind(webhook_events_text(&webhook.events))
            .bind(to_micros(change.now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!("{} ({})", webhook.url, webhook_events_text(&webhook.events));
        super::events::audit_row(
            &mut tx,
            change.actor,
            "changed the webhook",
            &format!("webhook:{id}"),
            &detail,
            change.now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_webhook_enabled(
        &self,
        id: i64,
        enabled: bool,
        change: crate::WebhookChange<'_>,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let changed =
            sqlx::query("UPDATE webhooks SET enabled = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(enabled)
                .bind(to_micros(change.now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if enabled {
            "enabled the webhook"
        } else {
            "disabled the webhook"
        };
        super::events::audit_row(
            &mut tx,
            change.actor,
            action,
            &format!("webhook:{id}"),
            "",
            change.now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_webhook_secret(
        &self,
        id: i64,
        secret: &str,
        change: crate::WebhookChange<'_>,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let changed = sqlx::query("UPDATE webhooks SET secret = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(secret)
            .bind(to_micros(change.now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        super::events::audit_row(
            &mut tx,
            change.actor,
            "rotated the webhook's secret",
            &format!("webhook:{id}"),
            "",
            change.now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_webhook(&self, id: i64, change: crate::WebhookChange<'_>) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let url: Option<String> =
            sqlx::query_scalar("DELETE FROM webhooks WHERE id = $1 RETURNING url")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let url = url.ok_or(StoreError::NotFound)?;
        super::events::audit_row(
            &mut tx,
            change.actor,
            "deleted the webhook",
            &format!("webhook:{id}"),
            &url,
            change.now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn webhook_cursor(&self) -> Result<i64> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT last_event_id FROM event_cursors WHERE consumer = 'webhooks'",
        )
        .fetch_optional(&self.writer)
        .await?;
        if let Some(cursor) = found {
            return Ok(cursor);
        }
        // A site that never ran the consumer: start where its endpoints start, or now.
        sqlx::query(
            "INSERT INTO event_cursors (consumer, last_event_id)
                 SELECT 'webhooks', COALESCE((SELECT MIN(after_event_id) FROM webhooks),
                                             (SELECT MAX(id) FROM events), 0)
                 WHERE TRUE
                 ON CONFLICT DO NOTHING",
        )
        .execute(&self.writer)
        .await?;
        let cursor: i64 = sqlx::query_scalar(
            "SELECT last_event_id FROM event_cursors WHERE consumer = 'webhooks'",
        )
        .fetch_one(&self.writer)
        .await?;
        Ok(cursor)
    }

    async fn enqueue_webhook_deliveries(
        &self,
        from: i64,
        to: i64,
        deliveries: &[crate::NewDelivery],
        now: Timestamp,
    ) -> Result<Option<u64>> {
        let mut tx = self.write_transaction().await?;
        // First, so that on PostgreSQL the cursor's row lock orders concurrent runs: the
        // second waits, then finds the cursor moved and writes nothing.
        let moved = sqlx::query(
                "UPDATE event_cursors SET last_event_id = $2 WHERE consumer = 'webhooks' AND last_event_id = $1",
            )
            .bind(from)
            .bind(to)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved == 0 {
            return Ok(None);
        }
        let mut stored = 0;
        for delivery in deliveries {
            stored += sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, state, attempts,
                                                     next_attempt_at, created_at)
                     SELECT w.id, $1, $2, $3, 'pending', 0, $4, $4 FROM webhooks w
                     WHERE w.enabled AND w.after_event_id < $1 AND (' ' || w.events || ' ') LIKE $5
                     ON CONFLICT DO NOTHING",
                )
                .bind(delivery.event_id)
                .bind(delivery.event.as_str())
                .bind(&delivery.payload)
                .bind(to_micros(now))
                .bind(format!("% {} %", delivery.event.as_str()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(Some(stored))
    }

    async fn claim_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::ClaimedDelivery>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // The outer conditions repeat the inner ones: a row another claimer took between
        // the subquery and the update no longer matches, so it is not claimed twice.
        let rows = sqlx::query(concat!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = $2,
                     first_attempt_at = COALESCE(first_attempt_at, $1)
                 WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                              WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                                AND (d.lease_until IS NULL OR d.lease_until <= $1) AND w.enabled
                              ORDER BY d.next_attempt_at, d.id LIMIT $3", claim_lock!(), ")
                   AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $1)
                 RETURNING id, webhook_id, event_type, payload, attempts, first_attempt_at, lease_until",
            ))
            .bind(to_micros(now))
            .bind(to_micros(lease_until))
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids: Vec<i64> = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("webhook_id")?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hooks: Vec<(i64, String, String)> = sqlx::query_as(concat!(
            "SELECT id, url, secret FROM webhooks WHERE id IN (",
            ids!(),
            ")"
        ))
        .bind(&ids)
        .fetch_all(&self.writer)
        .await?;
        let mut claimed = Vec::new();
        for r in &rows {
            let webhook_id: i64 = r.try_get("webhook_id")?;
            // Deleted since the claim: its deliveries went with it.
            let Some((_, url, secret)) = hooks.iter().find(|h| h.0 == webhook_id) else {
                continue;
            };
            let event: String = r.try_get("event_type")?;
            let attempt: i64 = r.try_get("attempts")?;
            claimed.push(crate::ClaimedDelivery {
                id: r.try_get("id")?,
                webhook_id,
                url: url.clone(),
                secret: secret.clone(),
                event: newsdesk_core::webhook::WebhookEvent::parse(&event)
                    .ok_or_else(|| StoreError::Corrupt(format!("webhook event {event}")))?,
                payload: r.try_get("payload")?,
                attempt: u32::try_from(attempt)
                    .map_err(|_| StoreError::Corrupt(format!("attempt {attempt}")))?,
                first_attempt_at: from_micros(
                    r.try_get::<Option<i64>, _>("first_attempt_at")?
                        .unwrap_or(to_micros(now)),
                )?,
                lease_until: from_micros(
                    r.try_get::<Option<i64>, _>("lease_until")?
                        .unwrap_or(to_micros(lease_until)),
                )?,
            });
        }
        Ok(claimed)
    }

    async fn record_webhook_attempt(
        &self,
        claim: &crate::ClaimedDelivery,
        attempt: &crate::AttemptRecord,
        outcome: crate::DeliveryOutcome,
    ) -> Result<bool> {
        let (state, next) = match outcome {
            crate::DeliveryOutcome::Delivered => (crate::DeliveryState::Delivered, None),
            crate::DeliveryOutcome::RetryAt(at) => {
                (crate::DeliveryState::Pending, Some(to_micros(at)))
            }
            crate::DeliveryOutcome::Failed => (crate::DeliveryState::Failed, None),
        };
        let mut tx = self.write_transaction().await?;
        let held = sqlx::query(
                "UPDATE webhook_deliveries SET state = $4, next_attempt_at = COALESCE($5, next_attempt_at),
                     lease_until = NULL
                 WHERE id = $1 AND attempts = $2 AND lease_until = $3",
            )
            .bind(claim.id)
            .bind(i64::from(claim.attempt))
            .bind(to_micros(claim.lease_until))
            .bind(state.as_str())
            .bind(next)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if held == 0 {
            return Ok(false);
        }
        sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code,
                                               response_excerpt, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(claim.id)
            .bind(i64::from(claim.attempt))
            .bind(to_micros(attempt.started_at))
            .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
            .bind(attempt.status_code.map(i64::from))
            .bind(&attempt.response_excerpt)
            .bind(&attempt.error)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn webhook_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<crate::Delivery>, u64)> {
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(webhook_id)
                .fetch_one(&self.reader)
                .await?;
        let rows = sqlx::query(
                "SELECT id, webhook_id, event_id, event_type, payload, replay_of, state, next_attempt_at, created_at
                 FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
            )
            .bind(webhook_id)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.reader)
            .await?;
        let mut deliveries = rows
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>>>()?;
        if !deliveries.is_empty() {
            let ids = serde_json::to_string(&deliveries.iter().map(|d| d.id).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let attempts = sqlx::query(concat!(
                    "SELECT delivery_id, attempt, started_at, duration_ms, status_code, response_excerpt, error
                     FROM webhook_attempts WHERE delivery_id IN (", ids!(), ") ORDER BY delivery_id, attempt"
                ))
                .bind(&ids)
                .fetch_all(&self.reader)
                .await?;
            for r in &attempts {
                let delivery_id: i64 = r.try_get("delivery_id")?;
                if let Some(d) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
                    d.attempts.push(attempt_from_row(r)?);
                }
            }
        }
        Ok((deliveries, u64::try_from(total).unwrap_or(0)))
    }

    async fn replay_webhook_delivery(
        &self,
        webhook_id: i64,
        delivery_id: i64,
        change: crate::WebhookChange<'_>,
    ) -> Result<i64> {
        let mut tx = self.write_transaction().await?;
        let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, replay_of, state,
                                                 attempts, next_attempt_at, created_at)
                 SELECT webhook_id, event_id, event_type, payload, COALESCE(replay_of, id), 'pending', 0, $3, $3
                 FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2
                 RETURNING id",
            )
            .bind(delivery_id)
            .bind(webhook_id)
            .bind(to_micros(change.now))
            .fetch_optional(&mut *tx)
            .await?;
        let id = id.ok_or(StoreError::NotFound)?;
        super::events::audit_row(
            &mut tx,
            change.actor,
            "replayed a webhook delivery",
            &format!("webhook:{webhook_id}"),
            &format!("delivery {delivery_id} again as {id}"),
            change.now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
    async fn prune_delivered_webhooks(&self, created_before: Timestamp) -> Result<u64> {
        // A replay waiting to be sent would go with its original (ON DELETE CASCADE):
        // such an original stays until its replay is settled.
        Ok(sqlx::query(
                "DELETE FROM webhook_deliveries WHERE state = 'delivered' AND created_at < $1
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS r
                                 WHERE r.replay_of = webhook_deliveries.id AND r.state = 'pending')",
            )
            .bind(to_micros(created_before))
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
