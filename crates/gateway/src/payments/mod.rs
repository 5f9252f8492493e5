//! Payments in the gateway: the enabled rails ([`Rails`]), the 402 ([`challenge`]), reading
//! credentials ([`credential`]), the paid-request flow ([`flow`] up to settlement, [`delivery`]
//! from record onwards), the credit-balance rail ([`credits`]), the reconciler of unknown
//! settlements ([`reconcile`]) and the recovery of payments a crash interrupted ([`recovery`]).
//!
//! Every rail is a [`Payment`]: the on-chain rails come from the composition point, the credit
//! rail is the gateway's own; the flow treats them alike.

mod answers;
pub mod challenge;
pub mod credential;
pub mod credits;
pub mod delivery;
pub mod flow;
pub mod issued;
pub mod reconcile;
pub mod recovery;

use std::fmt;
use std::sync::Arc;

use compute_core::payment::{Credential, Payment};

/// The enabled on-chain rails, in offer order. None is special.
#[derive(Clone, Default)]
pub struct Rails {
    all: Vec<Arc<dyn Payment>>,
    issued: Arc<issued::IssuedChallenges>,
}

impl fmt::Debug for Rails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.all.iter().map(|r| r.rail().rail.clone())).finish()
    }
}

impl Rails {
    /// Rails from built verifiers.
    pub fn new(all: Vec<Arc<dyn Payment>>) -> Rails {
        Rails { all, issued: Arc::default() }
    }

    /// The 402 answers built this second ([`issued`]).
    pub fn issued(&self) -> &issued::IssuedChallenges {
        &self.issued
    }

    /// Every enabled rail.
    pub fn all(&self) -> &[Arc<dyn Payment>] {
        &self.all
    }

    /// The rail named `name` (`tempo`, `base`, …).
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Payment>> {
        self.all.iter().find(|r| r.rail().rail == name)
    }

    /// The rail that accepts `credential`.
    pub fn for_credential(&self, credential: &Credential) -> Option<&Arc<dyn Payment>> {
        self.all.iter().find(|r| r.accepts(credential))
    }
}
