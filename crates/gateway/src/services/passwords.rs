//! Root passwords of servers the gateway creates (SiloVPS shows one per server): generated
//! here, handed to the machine through cloud-init `user_data`, kept in the resource row only
//! **sealed** (XChaCha20-Poly1305 under the data key, `[secrets] data_key`), opened only for the
//! owner's `GET`, never logged (`SecretString` throughout).

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use compute_core::http::{ExposeSecret, SecretString};
use compute_core::{Error, ErrorKind, Result};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The name of the database-kept data key, when `[secrets] data_key` is not set.
pub const KEY_NAME: &str = "data";

/// Characters of a generated password: letters and digits without look-alikes.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Length of a generated password (about 117 bits).
const LENGTH: usize = 20;

/// A new random root password.
pub fn generate() -> SecretString {
    let mut rng = rand::rng();
    let password: String = (0..LENGTH)
        .map(|_| {
            // Rejection sampling keeps every character equally likely.
            loop {
                let b = (rng.next_u32() & 0xff) as usize;
                if b < ALPHABET.len() * (256 / ALPHABET.len()) {
                    return ALPHABET[b % ALPHABET.len()] as char;
                }
            }
        })
        .collect();
    SecretString::from(password)
}

/// The cloud-init `user_data` that sets `password` for root and allows password logins.
pub fn cloud_init(password: &SecretString) -> SecretString {
    SecretString::from(format!(
        "#cloud-config\nssh_pwauth: true\nchpasswd:\n  expire: false\n  users:\n    - name: root\n      password: {}\n      type: text\n",
        password.expose_secret()
    ))
}

fn cipher(key: &SecretString) -> XChaCha20Poly1305 {
    let mut h = Sha256::new();
    h.update(b"compute-gateway data key v1\n");
    h.update(key.expose_secret().as_bytes());
    XChaCha20Poly1305::new(&h.finalize())
}

/// `plaintext` sealed under `key`: hex of a random 24-byte nonce followed by the ciphertext.
///
/// # Errors
/// [`ErrorKind::Internal`] if encryption fails.
pub fn seal_with(key: &SecretString, plaintext: &SecretString) -> Result<String> {
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher(key)
        .encrypt(&XNonce::from(nonce), plaintext.expose_secret().as_bytes())
        .map_err(|_| Error::new(ErrorKind::Internal, "cannot seal a secret"))?;
    Ok(format!("{}{}", hex::encode(nonce), hex::encode(sealed)))
}

/// Opens what [`seal_with`] sealed under `key`.
///
/// # Errors
/// [`ErrorKind::Internal`] for another key or tampered data.
pub fn open_with(key: &SecretString, sealed: &str) -> Result<SecretString> {
    let bad = || Error::new(ErrorKind::Internal, "a sealed secret does not open under the data key");
    let bytes = hex::decode(sealed).map_err(|_| bad())?;
    if bytes.len() < 24 {
        return Err(bad());
    }
    let (nonce, body) = bytes.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| bad())?;
    let plain = cipher(key).decrypt(&XNonce::from(nonce), body).map_err(|_| bad())?;
    String::from_utf8(plain).map(SecretString::from).map_err(|_| bad())
}

/// Seals under this gateway's data key.
///
/// # Errors
/// Database errors reading the key.
pub async fn seal(state: &AppState, plaintext: &SecretString) -> Result<String> {
    seal_with(state.data_key().await?, plaintext)
}

/// Opens under this gateway's data key.
///
/// # Errors
/// Database errors reading the key; another key or tampered data.
pub async fn open(state: &AppState, sealed: &str) -> Result<SecretString> {
    open_with(state.data_key().await?, sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_passwords_open_only_under_their_key() {
        let (key, other) = (SecretString::from("k".repeat(32)), SecretString::from("o".repeat(32)));
        let pw = generate();
        assert_eq!(pw.expose_secret().len(), LENGTH);
        assert!(pw.expose_secret().bytes().all(|b| ALPHABET.contains(&b)));
        let sealed = seal_with(&key, &pw).unwrap();
        assert!(!sealed.contains(pw.expose_secret()), "the row never holds the password");
        assert_eq!(open_with(&key, &sealed).unwrap().expose_secret(), pw.expose_secret());
        assert!(open_with(&other, &sealed).is_err(), "another key");
        let mut tampered = sealed.clone();
        tampered.replace_range(60..61, if &sealed[60..61] == "0" { "1" } else { "0" });
        assert!(open_with(&key, &tampered).is_err(), "tampered");
        assert_ne!(seal_with(&key, &pw).unwrap(), sealed, "a fresh nonce each time");
    }

    #[test]
    fn cloud_init_sets_the_root_password() {
        let ud = cloud_init(&SecretString::from("Pw123"));
        assert!(ud.expose_secret().starts_with("#cloud-config\n"));
        assert!(ud.expose_secret().contains("name: root\n      password: Pw123\n"));
    }
}
