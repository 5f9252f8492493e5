//! SSH public keys on any provider with the [`SshKeys`](compute_core::provider::SshKeys)
//! capability: the key is checked before the 402 (OpenSSH format; `ssh-ed25519`, `ssh-rsa` of
//! at least 2048 bits, or `ecdsa-sha2-nistp256/384/521`), registered in the payer's tenant and
//! recorded with its owner; machines may only be created with keys their payer owns.

use std::sync::Arc;

use compute_core::WalletAddress;
use compute_core::provider::{ProviderHandle, SshKey};
use compute_store::{NewResource, ResourceKind, ResourceRecord, ResourceState};
use ssh_key::public::KeyData;

use super::resources::{Owned, Scope, capability, provider_problem};
use super::tenancy::{ensure, tenant_for};
use crate::payments::flow::{ForWallet, Payer};
use crate::problem::Problem;
use crate::routes::Call;
use crate::state::AppState;

/// Longest accepted key name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest accepted public key line, in bytes.
pub const MAX_KEY_BYTES: usize = 16 * 1024;

/// Smallest accepted RSA modulus, in bits.
pub const MIN_RSA_BITS: usize = 2048;

fn invalid(msg: impl Into<String>) -> Problem {
    Problem::from(compute_core::Error::new(compute_core::ErrorKind::InvalidInput, msg))
}

/// Checks a key registration before its 402: a name of 1–[`MAX_NAME_CHARS`] printable
/// characters and an accepted OpenSSH public key.
///
/// # Errors
/// 400 naming the rule broken.
pub fn check(name: &str, public_key: &str) -> Result<(), Problem> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!("name must be 1–{MAX_NAME_CHARS} printable characters")));
    }
    if public_key.len() > MAX_KEY_BYTES {
        return Err(invalid(format!("public_key is longer than {MAX_KEY_BYTES} bytes")));
    }
    let key = ssh_key::PublicKey::from_openssh(public_key.trim())
        .map_err(|_| invalid("public_key is not an OpenSSH public key (\"<type> <base64> [comment]\")"))?;
    match key.key_data() {
        KeyData::Ed25519(_) | KeyData::Ecdsa(_) => Ok(()),
        KeyData::Rsa(rsa) => {
            let bits = rsa.n.as_positive_bytes().map_or(0, |b| b.len() * 8 - b[0].leading_zeros() as usize);
            if bits >= MIN_RSA_BITS {
                Ok(())
            } else {
                Err(invalid(format!("an ssh-rsa key needs at least {MIN_RSA_BITS} bits, not {bits}")))
            }
        }
        _ => Err(invalid("public_key must be ssh-ed25519, ssh-rsa (≥ 2048 bits) or ecdsa-sha2-nistp256/384/521")),
    }
}

/// The SSH keys of one provider.
#[derive(Clone)]
pub struct KeyService {
    scope: Scope,
    state: AppState,
    handle: ProviderHandle,
}

impl KeyService {
    /// The keys of the route's provider.
    ///
    /// # Errors
    /// 503 when the provider is not enabled.
    pub fn of(call: &Call) -> Result<Self, Problem> {
        let scope = Scope::of(call, ResourceKind::SshKey)?;
        Ok(KeyService { state: scope.state.clone(), handle: scope.handle.clone(), scope })
    }

    /// Ownership and rows of these keys.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Registers a checked key in the payer's tenant and records it.
    ///
    /// # Errors
    /// The provider's error; database problems.
    pub async fn register(
        &self,
        payer: &Payer,
        name: &str,
        public_key: &str,
    ) -> Result<(SshKey, ResourceRecord), Problem> {
        let tenant = tenant_for(&self.state, &payer.wallet).await?;
        ensure(&self.handle, &tenant).await?;
        let keys = capability(self.handle.ssh_keys())?;
        let key = keys.create_key(&tenant, name, public_key.trim()).await.map_err(provider_problem)?;
        let record = self
            .state
            .store()
            .insert_resource(NewResource {
                kind: ResourceKind::SshKey,
                owner: payer.wallet.clone(),
                provider: self.handle.id(),
                provider_id: Some(key.id.clone()),
                tenant: Some(tenant.as_str().to_owned()),
                name: name.to_owned(),
                region: None,
                state: ResourceState::Active,
                spec: serde_json::to_value(&key).unwrap_or_default(),
                price: payer.amount,
                paid_until: None,
                payment_id: Some(payer.payment_id.clone()),
            })
            .await?;
        Ok((key, record))
    }

    /// The owner's keys, as recorded.
    ///
    /// # Errors
    /// Database problems.
    pub async fn list(&self, owner: &WalletAddress) -> Result<Vec<(SshKey, ResourceRecord)>, Problem> {
        Ok(self
            .scope
            .rows(owner)
            .await?
            .into_iter()
            .filter_map(|r| serde_json::from_value::<SshKey>(r.record.spec.clone()).ok().map(|k| (k, r.record)))
            .collect())
    }

    /// Deletes a key at the provider; its row becomes `destroyed`.
    ///
    /// # Errors
    /// The provider's error.
    pub async fn delete(&self, key: &Owned) -> Result<(), Problem> {
        capability(self.handle.ssh_keys())?
            .delete_key(&key.tenant, key.provider_id())
            .await
            .map_err(provider_problem)?;
        self.scope.mark(key, ResourceState::Destroyed).await
    }

    /// A check for [`crate::payments::flow::Terms::check`]: the verified payer owns every key
    /// of `ids` (provider ids); an unknown and another wallet's key are the same 404.
    pub fn owns_all(&self, ids: Vec<String>) -> ForWallet<()> {
        let scope = self.scope.clone();
        Arc::new(move |wallet| {
            let (scope, ids) = (scope.clone(), ids.clone());
            Box::pin(async move {
                for id in &ids {
                    scope.owned(&wallet, id).await?;
                }
                Ok(())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host";

    #[test]
    fn accepted_keys_pass_and_everything_else_is_a_400() {
        assert!(check("laptop", ED25519).is_ok());
        assert!(check("", ED25519).is_err(), "empty name");
        assert!(check(&"n".repeat(65), ED25519).is_err(), "long name");
        assert!(check("a\nb", ED25519).is_err(), "control characters");
        assert!(check("k", "ssh-ed25519 AAAA").is_err(), "truncated blob");
        assert!(check("k", "not a key").is_err());
        assert!(check("k", &format!("{ED25519}{}", "x".repeat(MAX_KEY_BYTES))).is_err(), "too long");
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        // A 1024-bit RSA public key (e = 65537).
        let rsa_1024 = rsa_key(1024);
        let err = check("old", &rsa_1024).unwrap_err();
        assert!(format!("{err:?}").contains("2048"), "{err:?}");
        assert!(check("new", &rsa_key(2048)).is_ok());
    }

    /// An OpenSSH `ssh-rsa` line with a modulus of exactly `bits` bits (its value does not
    /// matter to the check).
    fn rsa_key(bits: usize) -> String {
        use base64::Engine;
        fn string(out: &mut Vec<u8>, b: &[u8]) {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        }
        let mut n = vec![0u8; bits / 8 + 1]; // Leading 0: a positive mpint.
        n[1] = 0x80;
        *n.last_mut().unwrap() = 1;
        let mut blob = Vec::new();
        string(&mut blob, b"ssh-rsa");
        string(&mut blob, &[1, 0, 1]);
        string(&mut blob, &n);
        format!("ssh-rsa {}", base64::engine::general_purpose::STANDARD.encode(blob))
    }
}
