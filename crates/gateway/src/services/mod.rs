//! Shared services the API surfaces translate to: validation and pricing of compute requests,
//! tenancy and ownership, and the expiry worker. Surfaces own only their wire shapes.

pub mod expiry;
#[cfg(feature = "fly")]
pub mod fly;
pub mod owners;
pub mod periodic;
