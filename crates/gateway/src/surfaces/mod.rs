//! The three public API surfaces, each a separate module over the same core services:
//! TinyCompute (`/api/*`), SiloVPS (`/v1/*`) and x402Compute (`/compute/*`). Each module keeps
//! its surface's request and response shapes (see `../shared/seeds/`) and only translates
//! them; validation, pricing, payment and provider calls are shared.

pub mod silovps;
pub mod tinycompute;
pub mod x402compute;
