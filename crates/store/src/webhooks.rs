//! Webhooks in the store: endpoints, the deliveries derived from events, their attempts
//! and replays.

use async_trait::async_trait;
use jiff::Timestamp;
use newsdesk_core::webhook::{Delivery, Webhook};

use crate::Result;

/// A delivery derived from one event, with the body every attempt will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub event_id: i64,
    pub event: newsdesk_core::webhook::WebhookEvent,
    pub payload: String,
}

/// A delivery a worker has claimed: it alone sends attempt `attempt`, until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub event: newsdesk_core::webhook::WebhookEvent,
    pub payload: String,
    pub attempt: u32,
    pub first_attempt_at: Timestamp,
    pub lease_until: Timestamp,
}

/// What one attempt found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    /// At most `newsdesk_core::webhook::RESPONSE_EXCERPT_MAX` bytes of the answer.
    pub response_excerpt: String,
    pub error: String,
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    RetryAt(Timestamp),
    Failed,
}

/// Who changes a webhook and when (the change is audited in the same transaction).
#[derive(Debug, Clone, Copy)]
pub struct WebhookChange<'a> {
    pub actor: &'a str,
    pub now: Timestamp,
}

/// Webhook endpoints and their deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers an endpoint that hears of events after the latest one; audited. Refused
    /// with `StoreError::Limit` when `max` endpoints exist already.
    async fn create_webhook(
        &self,
        webhook: &newsdesk_core::webhook::ValidWebhook,
        secret: &str,
        max: u64,
        change: WebhookChange<'_>,
    ) -> Result<Webhook>;
    /// Every endpoint, oldest first.
    async fn webhooks(&self) -> Result<Vec<Webhook>>;
    async fn webhook(&self, id: i64) -> Result<Option<Webhook>>;
    /// Replaces the address, note and events; audited. `NotFound` when unknown.
    async fn update_webhook(
        &self,
        id: i64,
        webhook: &newsdesk_core::webhook::ValidWebhook,
        change: WebhookChange<'_>,
    ) -> Result<()>;
    /// A disabled endpoint gets no new deliveries and its pending ones wait; audited.
    async fn set_webhook_enabled(
        &self,
        id: i64,
        enabled: bool,
        change: WebhookChange<'_>,
    ) -> Result<()>;
    async fn rotate_webhook_secret(
        &self,
        id: i64,
        secret: &str,
        change: WebhookChange<'_>,
    ) -> Result<()>;
    /// Deletes the endpoint with its deliveries and their attempts; audited.
    async fn delete_webhook(&self, id: i64, change: WebhookChange<'_>) -> Result<()>;
    /// The last event turned into deliveries (set to the latest event on first use, so a
    /// new site does not deliver its history).
    async fn webhook_cursor(&self) -> Result<i64>;
    /// In one transaction: if the cursor is still `from`, stores one delivery per enabled
    /// endpoint subscribed to each delivery's event (and registered before it), and moves
    /// the cursor to `to`. `None` when another process moved the cursor first (nothing is
    /// written); else the number of deliveries stored. An event never gets two deliveries
    /// to one endpoint, whoever runs this.
    async fn enqueue_webhook_deliveries(
        &self,
        from: i64,
        to: i64,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<Option<u64>>;
    /// Claims up to `limit` due deliveries of enabled endpoints, counting an attempt for
    /// each and leasing it until `lease_until`. Two claimers never get the same attempt.
    async fn claim_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>>;
    /// Records a claimed attempt and where the delivery stands, only if the claim still
    /// holds (same attempt, same lease); false (nothing written) when it does not.
    async fn record_webhook_attempt(
        &self,
        claim: &ClaimedDelivery,
        attempt: &AttemptRecord,
        outcome: DeliveryOutcome,
    ) -> Result<bool>;
    /// An endpoint's deliveries, newest first, with their attempts, and the total.
    async fn webhook_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<Delivery>, u64)>;
    /// Sends a delivery of this endpoint again: a new pending delivery with the same body,
    /// marked as a replay of the original; audited. Returns its id.
    async fn replay_webhook_delivery(
        &self,
        webhook_id: i64,
        delivery_id: i64,
        change: WebhookChange<'_>,
    ) -> Result<i64>;
    /// Webhook deliveries that arrived, made before `created_before`, with their attempts.
    async fn prune_delivered_webhooks(&self, created_before: Timestamp) -> Result<u64>;
}
