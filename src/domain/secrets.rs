//! Credentials at rest. Auth tokens are 32 lowercase hex; the 2010 Account resource returns
//! `auth_token`, so tokens are stored twice: an argon2id hash for checking and a sealed copy
//! (XChaCha20-Poly1305 under the server key) for showing and, later, webhook signing. API key
//! secrets are stored as an argon2id hash only (DESIGN.md "Accounts and credentials").

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// Random bytes from the OS.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(anyhow::anyhow!("getrandom: {e}")))?;
    Ok(bytes)
}

/// A new auth token: 32 lowercase hex digits, like Twilio's.
pub fn new_auth_token() -> Result<String> {
    Ok(hex::encode(random_bytes::<16>()?))
}

/// A new API key secret: 32 alphanumerics, like Twilio's.
pub fn new_key_secret() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // 248 = 4 * 62: rejecting bytes above it keeps the choice unbiased.
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        for b in random_bytes::<48>()? {
            if b < 248 && out.len() < 32 {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// True for a well-formed auth token (bootstrap input check).
pub fn is_auth_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True for a secret shaped like the ones `new_key_secret` makes (fixture input check).
pub fn is_key_secret(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// True for an argon2 PHC string (a key's `secret_hash` carried through export and seed).
pub fn is_secret_hash(s: &str) -> bool {
    s.starts_with("$argon2") && PasswordHash::new(s).is_ok()
}

/// argon2id PHC string of `secret` with a random salt. Slow by design (~19 MiB, tens of ms) and
/// allocates a fresh buffer each time: request paths hash through the argon2 pool instead
/// (`Authenticator::hash_secret`), which bounds how many run at once.
pub fn hash_secret(secret: &str) -> Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("argon2 hash failed: {e}")))
}

/// Checks `secret` against a PHC string; argon2's own comparison is constant-time.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An argon2id PHC string shaped like the ones `hash_secret` makes, for a secret nobody knows: its salt and
/// output are fixed bytes, so it matches no secret, yet checking against it costs exactly what
/// checking a real credential costs (same algorithm and parameters). An unknown SID is checked
/// against it, so a caller cannot tell from the time taken whether a SID exists.
pub fn dummy_hash() -> String {
    use base64::Engine;
    let params = Params::default();
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64.encode([0x5a_u8; 16]),
        b64.encode([0_u8; Params::DEFAULT_OUTPUT_LEN])
    )
}

/// argon2 working memory (~19 MiB) kept between computations, for checking and hashing alike.
/// Each thread of the argon2 pool owns one, so the process holds at most pool-size buffers
/// whatever arrives. A fresh buffer per call is not only slower (zeroed and page-faulted in
/// anew): freed buffers were not handed back to the system — 250 concurrent key creates on the
/// blocking pool left 8.5 GB resident after the burst (issue 15, F1; glibc's dynamic mmap
/// threshold, `man mallopt`, serves 19 MiB from its arenas once one such mapping was freed).
#[derive(Default)]
pub struct Argon2Memory {
    blocks: Vec<Block>,
}

/// The name bulk generation (`generate.rs`) knows it by.
pub type ReusableHasher = Argon2Memory;

impl Argon2Memory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.blocks.len() != needed {
            self.blocks = vec![Block::default(); needed];
        }
        &mut self.blocks[..]
    }

    /// `argon2` of `secret` with `salt` into `out`, in this memory: what checking and hashing
    /// both compute.
    fn derive(
        &mut self,
        argon2: &Argon2<'_>,
        secret: &str,
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        argon2.hash_password_into_with_memory(
            secret.as_bytes(),
            salt,
            out,
            self.blocks(argon2.params()),
        )
    }

    /// Same answer as `verify_secret`; the comparison is constant-time (`subtle`).
    pub fn verify(&mut self, secret: &str, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        let (Ok(params), Ok(algorithm)) = (
            Params::try_from(&hash),
            Algorithm::new(hash.algorithm.as_str()),
        ) else {
            return false;
        };
        let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return false;
        };
        let mut out = vec![0u8; expected.as_bytes().len()];
        let argon2 = Argon2::new(algorithm, version, params);
        self.derive(&argon2, secret, &salt, &mut out).is_ok()
            && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
    }

    /// The same kind of PHC string `hash_secret` makes: argon2id v19, default parameters, a
    /// random 16-byte salt.
    pub fn hash(&mut self, secret: &str) -> Result<String> {
        use base64::Engine;
        let params = Params::default();
        let salt = random_bytes::<16>()?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        self.derive(&argon2, secret, &salt, &mut out)
            .map_err(|e| Error::Internal(anyhow::anyhow!("argon2 hash failed: {e}")))?;
        // PHC strings use standard base64 without padding.
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            b64.encode(salt),
            b64.encode(out)
        ))
    }
}

/// The server key: seals auth tokens at rest.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl ServerKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// nonce (24 bytes) || ciphertext+tag. `context` (the owner's SID) is bound in as associated
    /// data, so a sealed token copied onto another row does not open.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let nonce_bytes = random_bytes::<24>()?;
        let nonce = XNonce::from(nonce_bytes);
        let sealed = cipher
            .encrypt(
                &nonce,
                chacha20poly1305::aead::Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal(anyhow::anyhow!("sealing failed")))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String> {
        let unreadable = || {
            Error::Internal(anyhow::anyhow!(
                "a sealed credential does not open with this server key (was the key file replaced?)"
            ))
        };
        if sealed.len() < 24 {
            return Err(unreadable());
        }
        let (nonce, body) = sealed.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| unreadable())?;
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let plain = cipher
            .decrypt(
                &XNonce::from(nonce),
                chacha20poly1305::aead::Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| unreadable())?;
        String::from_utf8(plain).map_err(|_| unreadable())
    }
}

/// HMAC-SHA256 under a per-process key: names a verified credential in the in-memory cache
/// without keeping the secret itself.
#[derive(Clone)]
pub struct CacheKeyer([u8; 32]);

impl CacheKeyer {
    pub fn random() -> Result<Self> {
        Ok(Self(random_bytes::<32>()?))
    }

    pub fn key(&self, username: &str, secret: &str) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return [0; 32];
        };
        mac.update(username.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reusable_hasher_makes_what_the_standard_verifier_accepts() {
        let mut hasher = Argon2Memory::default();
        let first = hasher.hash("s3cret").unwrap();
        let second = hasher.hash("other").unwrap();
        assert!(verify_secret("s3cret", &first), "{first}");
        assert!(!verify_secret("s3cret", &second));
        assert!(verify_secret("other", &second));
        assert!(is_secret_hash(&first));
        let standard = hash_secret("s3cret").unwrap();
        // Same parameters and shape as the standard hasher's output (salts differ).
        assert_eq!(
            first.rsplitn(3, '$').nth(2),
            standard.rsplitn(3, '$').nth(2)
        );
    }

    #[test]
    fn generated_credentials_have_twilio_shapes() {
        let token = new_auth_token().unwrap();
        assert!(is_auth_token(&token));
        assert_eq!(token, token.to_lowercase());
        let secret = new_key_secret().unwrap();
        assert_eq!(secret.len(), 32);
        assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn hashes_verify_only_the_right_secret() {
        let hash = hash_secret("s3cret").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret("s3cret", &hash));
        assert!(!verify_secret("s3cret ", &hash));
        assert!(!verify_secret("s3cret", "not a phc string"));
    }

    #[test]
    fn reused_argon2_memory_agrees_with_argon2() {
        let hash = hash_secret("s3cret").unwrap();
        let mut memory = Argon2Memory::default();
        for _ in 0..2 {
            assert!(memory.verify("s3cret", &hash));
            assert!(!memory.verify("s3cret!", &hash));
        }
        assert!(!memory.verify("s3cret", "garbage"));
        // One buffer serves hashing and checking in turn.
        let made = memory.hash("other").unwrap();
        assert!(memory.verify("other", &made));
        assert!(memory.verify("s3cret", &hash));
    }

    #[test]
    fn the_dummy_hash_has_the_real_parameters_and_matches_nothing() {
        let dummy = dummy_hash();
        assert!(is_secret_hash(&dummy), "{dummy}");
        let real = hash_secret("s3cret").unwrap();
        // Same algorithm, version and cost parameters: checking it costs what a real check does.
        assert_eq!(dummy.rsplitn(3, '$').nth(2), real.rsplitn(3, '$').nth(2));
        let mut memory = Argon2Memory::default();
        for guess in ["", "s3cret", "0123456789abcdef0123456789abcdef"] {
            assert!(!memory.verify(guess, &dummy));
            assert!(!verify_secret(guess, &dummy));
        }
    }

    #[test]
    fn sealed_tokens_open_only_with_the_same_key_and_context() {
        let key = ServerKey::from_bytes([7; 32]);
        let sealed = key.seal("token", "AC1").unwrap();
        assert_eq!(key.open(&sealed, "AC1").unwrap(), "token");
        assert!(key.open(&sealed, "AC2").is_err());
        assert!(ServerKey::from_bytes([8; 32]).open(&sealed, "AC1").is_err());
    }
}
