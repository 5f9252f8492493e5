//! A memo of the 402 answers built in the current wall-clock second.
//!
//! Every rail's offer for a charge is a pure function of the charge and the second it is made
//! in: MPP challenges carry `expires` to the second and an HMAC id over their parameters, x402
//! offers carry no time at all. Two unpaid requests for the same charge in the same second
//! therefore get byte-identical challenges; the memo builds the answer once and hands out
//! copies (headers and body are reference-counted), which is what makes a storm of unpaid
//! requests cheap (`cargo xtask bench`, figure 1). Answers are only memoised when they were
//! built within one second, so a memoised answer is exactly the one a fresh build would give.
//!
//! The memo holds at most [`MAX_ANSWERS`] answers and forgets all of them when the second
//! changes; it lives in [`super::Rails`] (one per gateway, no global).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Most distinct answers kept for one second; later ones are built every time.
pub const MAX_ANSWERS: usize = 1024;

/// A built 402 (or 412): status, headers and JSON body.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The answer's status.
    pub status: StatusCode,
    /// Every header (content type, challenges, cache control).
    pub headers: HeaderMap,
    /// The problem+json body.
    pub body: Bytes,
}

impl Issued {
    /// A response carrying a copy of this answer.
    pub fn response(&self) -> Response {
        let mut resp = Response::new(Body::from(self.body.clone()));
        *resp.status_mut() = self.status;
        *resp.headers_mut() = self.headers.clone();
        resp
    }
}

/// The answers of one second, keyed by a digest of everything the answer depends on.
#[derive(Debug, Default)]
pub struct IssuedChallenges {
    window: Mutex<(i64, HashMap<[u8; 32], Issued>)>,
}

impl IssuedChallenges {
    /// The answer memoised for `key` in `second` (Unix seconds), if any.
    pub fn get(&self, second: i64, key: &[u8; 32]) -> Option<Issued> {
        let window = self.window.lock().ok()?;
        if window.0 != second {
            return None;
        }
        window.1.get(key).cloned()
    }

    /// Memoises `issued` for `key` in `second`, forgetting the answers of earlier seconds.
    pub fn put(&self, second: i64, key: [u8; 32], issued: &Issued) {
        let Ok(mut window) = self.window.lock() else { return };
        if window.0 != second {
            *window = (second, HashMap::new());
        }
        if window.1.len() < MAX_ANSWERS {
            window.1.insert(key, issued.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static str) -> Issued {
        Issued {
            status: StatusCode::PAYMENT_REQUIRED,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn answers_live_for_their_second_only() {
        let memo = IssuedChallenges::default();
        memo.put(100, [1; 32], &answer("a"));
        assert_eq!(memo.get(100, &[1; 32]).map(|i| i.body), Some(Bytes::from_static(b"a")));
        assert!(memo.get(100, &[2; 32]).is_none(), "another key is another answer");
        assert!(memo.get(101, &[1; 32]).is_none(), "the next second builds afresh");
        memo.put(101, [2; 32], &answer("b"));
        assert!(memo.get(100, &[1; 32]).is_none(), "earlier seconds are forgotten");
    }

    #[test]
    fn holds_at_most_max_answers() {
        let memo = IssuedChallenges::default();
        for i in 0..=MAX_ANSWERS {
            let mut key = [0; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            memo.put(7, key, &answer("x"));
        }
        let mut last = [0; 32];
        last[..8].copy_from_slice(&(MAX_ANSWERS as u64).to_le_bytes());
        assert!(memo.get(7, &last).is_none());
        assert!(memo.get(7, &[0; 32]).is_some());
    }
}
