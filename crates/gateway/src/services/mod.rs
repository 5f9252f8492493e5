//! Shared services, one per capability, each working on any provider handle that has it:
//! validation and pricing before the 402, tenancy, ownership, resource rows, expiry and what
//! the caller gets back. Surfaces translate their wire shapes to these calls.
//!
//! - [`machines`], [`volumes`], [`ips`]: the capability services;
//! - [`tenancy`]: a wallet's tenant and its space at a provider;
//! - [`resources`]: owned lookups and the paid by-id flow;
//! - [`catalog`]: provider catalogs, cached;
//! - [`expiry`]: the worker that enforces paid time; [`maintenance`] purges what expired;
//!   [`periodic`] runs the workers.

pub mod catalog;
pub mod expiry;
pub mod ips;
pub mod keys;
pub mod machines;
pub mod maintenance;
pub mod passwords;
pub mod periodic;
pub mod periods;
pub mod resources;
pub mod snapshots;
pub mod tenancy;
pub mod volumes;
