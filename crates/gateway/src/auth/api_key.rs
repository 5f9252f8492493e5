//! [`ApiKeyAuth`]: an API key (`X-API-Key`) created by a wallet with a signature; the key's
//! owner is the wallet. Keys are stored hashed and compared in constant time (compute-store).

use async_trait::async_trait;
use compute_core::auth::{AuthRequest, WalletAuth};
use compute_core::http::SecretString;
use compute_core::{Error, ErrorKind, Result, WalletAddress};
use compute_store::Store;

/// The header that carries the key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The method's name.
pub(super) const NAME: &str = "api-key";

/// API keys as a wallet-authentication method.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    store: Store,
}

impl ApiKeyAuth {
    /// Keys looked up in `store`.
    pub fn new(store: Store) -> Self {
        ApiKeyAuth { store }
    }
}

#[async_trait]
impl WalletAuth for ApiKeyAuth {
    fn name(&self) -> &'static str {
        NAME
    }

    fn present(&self, request: &AuthRequest<'_>) -> bool {
        request.headers.contains_key(API_KEY_HEADER)
    }

    async fn authenticate(&self, request: &AuthRequest<'_>) -> Result<WalletAddress> {
        let key = request.headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.store.api_key_owner(&SecretString::from(key.to_owned())).await?.ok_or_else(|| {
            Error::new(ErrorKind::Unauthenticated, "the API key is unknown or revoked").with_reason("unauthenticated")
        })
    }

    fn challenge(&self, _: &AuthRequest<'_>) -> Vec<(String, String)> {
        Vec::new()
    }

    fn hint(&self) -> &'static str {
        "send X-API-Key with a key from POST /compute/api-keys"
    }
}
