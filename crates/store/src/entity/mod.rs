//! sea-orm entities, one module per table. Money columns are decimal **strings** (USD) or
//! integer strings (token base units) so no backend stores them as floats.

pub mod api_key;
pub mod credit_entry;
pub mod idempotency_key;
pub mod lease;
pub mod payment;
pub mod replay_marker;
pub mod resource;
pub mod server_secret;
