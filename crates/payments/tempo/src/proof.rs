//! [`ProofAuth`]: wallet authentication with an MPP zero-amount `proof` credential (how
//! SiloVPS identifies a wallet on free calls): the 402 carries zero-amount `tempo` challenges;
//! the wallet answers with an EIP-712 signature over the challenge, and the signer is the wallet.

use std::sync::Arc;

use async_trait::async_trait;
use compute_core::auth::{AuthRequest, WalletAuth};
use compute_core::payment::{Charge, Credential, Offer};
use compute_core::{Result, Usd, WalletAddress};

use crate::TempoRail;

/// The MPP proof method over a [`TempoRail`].
#[derive(Debug, Clone)]
pub struct ProofAuth {
    rail: Arc<TempoRail>,
}

impl ProofAuth {
    /// Proofs verified by `rail` (its realm, secret and chain).
    pub fn new(rail: Arc<TempoRail>) -> Self {
        ProofAuth { rail }
    }
}

/// The `Authorization: Payment …` (or `Payment-Authorization`) value of a request.
pub fn payment_authorization(headers: &http::HeaderMap) -> Option<String> {
    [http::header::AUTHORIZATION.as_str(), "payment-authorization"].into_iter().find_map(|name| {
        let v = headers.get(name)?.to_str().ok()?;
        (v.len() > 8 && v[..8].eq_ignore_ascii_case("payment ")).then(|| v.to_owned())
    })
}

fn zero_charge(request: &AuthRequest<'_>) -> Charge {
    Charge {
        amount: Usd::ZERO,
        route: request.route.to_owned(),
        resource_url: request.resource_url.to_owned(),
        description: format!("Prove wallet ownership: {}", request.description),
        body: request.body.to_vec(),
    }
}

#[async_trait]
impl WalletAuth for ProofAuth {
    fn name(&self) -> &'static str {
        "mpp-proof"
    }

    fn present(&self, request: &AuthRequest<'_>) -> bool {
        payment_authorization(request.headers).is_some()
    }

    async fn authenticate(&self, request: &AuthRequest<'_>) -> Result<WalletAddress> {
        let encoded = payment_authorization(request.headers).unwrap_or_default();
        self.rail.authenticate(&Credential::Mpp { encoded }, &zero_charge(request)).await
    }

    fn challenge(&self, request: &AuthRequest<'_>) -> Vec<(String, String)> {
        let offers = self.rail.auth_offers(&zero_charge(request)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not issue a proof challenge");
            Vec::new()
        });
        offers
            .into_iter()
            .filter_map(|o| match o {
                Offer::Mpp { www_authenticate } => Some(("www-authenticate".to_owned(), www_authenticate)),
                _ => None,
            })
            .collect()
    }

    fn hint(&self) -> &'static str {
        "sign the zero-amount MPP challenge of WWW-Authenticate (a proof credential); nothing is charged"
    }
}
