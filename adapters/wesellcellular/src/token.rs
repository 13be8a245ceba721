//! The tenant's bearer token: minted with `POST /auth/token`, a JWT whose `exp` says when it
//! ends; replaced a margin before then, and at once when the API refuses it (401).
//!
//! Single flight: the cache's async mutex is held across the mint, so sixteen calls meeting
//! an expired token wait for one mint and share its token instead of minting sixteen. A call
//! refused with a token names it when asking again ([`TokenCache::get`]'s `refused`): if
//! another call already replaced it, the new one is used without a second mint.

use crate::wire::Claims;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_core::AdapterError;
use switchyard_runtime::partner_config::Secret;

/// A token and when to stop using it.
#[derive(Clone, Debug)]
pub struct Token {
    pub value: Secret,
    /// The JWT's `exp`.
    pub expires_at: SystemTime,
    /// `expires_at` less the refresh margin.
    pub renew_at: SystemTime,
}

impl Token {
    /// Read `exp` (and `iat`) from `jwt`. The signature is not checked: it is the tenant's key
    /// for the tenant's API, which checks it; the client only needs to know when it ends.
    pub fn from_jwt(jwt: &str, margin: Duration, now: SystemTime) -> Result<Token, AdapterError> {
        let claims = read_claims(jwt)?;
        let expires_at = UNIX_EPOCH + Duration::from_secs(claims.exp.max(0) as u64);
        let issued_at = claims
            .iat
            .map(|iat| UNIX_EPOCH + Duration::from_secs(iat.max(0) as u64))
            .unwrap_or(now);
        let lifetime = expires_at.duration_since(issued_at).unwrap_or_default();
        // A margin of a fifth of the lifetime at most: a short-lived token (minutes) would
        // otherwise be renewed on every call.
        let margin = margin.min(lifetime / 5);
        Ok(Token {
            value: Secret::new(jwt),
            expires_at,
            renew_at: expires_at - margin,
        })
    }

    pub fn usable(&self, now: SystemTime) -> bool {
        now < self.renew_at
    }
}

/// The claims of a JWT, its signature unchecked and its `exp` not enforced.
pub fn read_claims(jwt: &str) -> Result<Claims, AdapterError> {
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|e| AdapterError::auth(format!("the token endpoint answered no JWT: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.algorithms = vec![header.alg, Algorithm::HS256];
    jsonwebtoken::decode::<Claims>(jwt, &DecodingKey::from_secret(&[]), &validation)
        .map(|d| d.claims)
        .map_err(|e| AdapterError::auth(format!("the token's claims are unreadable (exp?): {e}")))
}

/// The cached token, minted by whoever finds it missing or ending.
#[derive(Debug, Default)]
pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<Token>>,
}

impl TokenCache {
    /// A usable token: the cached one, or a new one from `mint`. `refused`: the token the API
    /// just answered 401 to, which is not to be used again.
    pub async fn get<F, Fut>(
        &self,
        refused: Option<&Secret>,
        mint: F,
    ) -> Result<Token, AdapterError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Token, AdapterError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(t) = slot.as_ref() {
            let refused_this = refused.is_some_and(|r| r.expose() == t.value.expose());
            if !refused_this && t.usable(SystemTime::now()) {
                return Ok(t.clone());
            }
        }
        *slot = None;
        let token = mint().await?;
        *slot = Some(token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    fn jwt(iat: i64, exp: i64) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "c".into(),
                exp,
                iat: Some(iat),
            },
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap()
    }

    #[test]
    fn renews_a_margin_before_exp_and_short_tokens_keep_most_of_their_life() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t = Token::from_jwt(&jwt(1_000_000, 1_003_600), Duration::from_secs(60), now).unwrap();
        assert_eq!(t.renew_at, UNIX_EPOCH + Duration::from_secs(1_003_540));
        assert!(t.usable(now));
        assert!(!t.usable(UNIX_EPOCH + Duration::from_secs(1_003_540)));
        // A 100-second token renews 20 seconds early, not 60.
        let t = Token::from_jwt(&jwt(1_000_000, 1_000_100), Duration::from_secs(60), now).unwrap();
        assert_eq!(t.renew_at, UNIX_EPOCH + Duration::from_secs(1_000_080));
        assert!(Token::from_jwt("not.a.jwt", Duration::ZERO, now).is_err());
    }
}
