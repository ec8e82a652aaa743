//! Credentials at rest. Auth tokens are 32 lowercase hex; the 2010 Account resource returns
//! `auth_token`, so tokens are stored twice: an argon2id hash for checking and a sealed copy
//! (XChaCha20-Poly1305 under the server key) for showing and, later, webhook signing. API key
//! secrets are stored as an argon2id hash only (DESIGN.md "Accounts and credentials").

use argon2::{Algorithm, Argon2, Block, Params, Version, password_hash::phc::PasswordHash};
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

/// The argon2 parameters this server hashes with, and the most a hash it checks may cost. A hash
/// imported through `seed FILE` over any of them is refused there, and a stored one is never
/// computed, so a check allocates at most one ~19 MiB buffer per pool thread and takes at most
/// one of our own checks' time however the hash was made (a seeded `m=4194304` would otherwise
/// have made every failed attempt allocate, and keep, 4 GiB).
const OWN_COST: Params = Params::DEFAULT;

/// Why an argon2 PHC string cannot be checked against. Names only what is wrong, never the
/// string's own bytes, so it can be logged and shown in a refusal.
#[derive(Debug, thiserror::Error)]
pub enum UnusableHash {
    #[error("is not an argon2 PHC string ({0})")]
    Malformed(String),
    #[error(
        "costs more than this server's own hashes: m={m}, t={t}, p={p} (at most m={}, t={}, p={})",
        OWN_COST.m_cost(),
        OWN_COST.t_cost(),
        OWN_COST.p_cost()
    )]
    OverCost { m: u32, t: u32, p: u32 },
}

/// A PHC string known to be checkable: an argon2 variant, a salt and an output argon2 accepts,
/// and costs within `OWN_COST`.
struct CheckableHash {
    argon2: Argon2<'static>,
    block_count: usize,
    salt: Vec<u8>,
    expected: Vec<u8>,
}

impl CheckableHash {
    fn parse(phc: &str) -> Result<Self, UnusableHash> {
        let malformed = |why: &dyn std::fmt::Display| UnusableHash::Malformed(why.to_string());
        let hash = PasswordHash::new(phc).map_err(|e| malformed(&e))?;
        let algorithm = Algorithm::new(hash.algorithm.as_str()).map_err(|e| malformed(&e))?;
        let version = hash
            .version
            .map_or(Ok(Version::V0x13), Version::try_from)
            .map_err(|e| malformed(&e))?;
        let params = Params::try_from(&hash).map_err(|e| malformed(&e))?;
        if params.m_cost() > OWN_COST.m_cost()
            || params.t_cost() > OWN_COST.t_cost()
            || params.p_cost() > OWN_COST.p_cost()
        {
            return Err(UnusableHash::OverCost {
                m: params.m_cost(),
                t: params.t_cost(),
                p: params.p_cost(),
            });
        }
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return Err(malformed(&"no salt or no output"));
        };
        if salt.len() < argon2::MIN_SALT_LEN {
            return Err(malformed(&argon2::Error::SaltTooShort));
        }
        Ok(Self {
            block_count: params.block_count(),
            argon2: Argon2::new(algorithm, version, params),
            salt: salt.to_vec(),
            expected: expected.as_bytes().to_vec(),
        })
    }
}

/// Whether `phc` can be stored as a key's `secret_hash` (carried through export and seed): a
/// PHC string our checks can use, costing no more than our own hashes.
pub fn check_secret_hash(phc: &str) -> Result<(), UnusableHash> {
    CheckableHash::parse(phc).map(drop)
}

/// The PHC string of an argon2id v19 output (standard base64 without padding, as PHC wants).
fn phc_string(params: &Params, salt: &[u8], output: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64.encode(salt),
        b64.encode(output)
    )
}

/// An argon2id PHC string shaped like the ones `Argon2Memory::hash` makes, for a secret nobody
/// knows: its salt and output are fixed bytes, so it matches no secret, yet checking against it
/// costs exactly what checking a real credential costs (same algorithm and parameters). An
/// unknown SID is checked against it, so a caller cannot tell from the time taken whether a SID
/// exists.
pub fn dummy_hash() -> String {
    phc_string(
        &OWN_COST,
        &[0x5a_u8; 16],
        &[0_u8; Params::DEFAULT_OUTPUT_LEN],
    )
}

/// argon2 working memory (~19 MiB) kept between computations, for checking and hashing alike.
/// Each thread of the argon2 pool owns one, so the process holds at most pool-size buffers
/// whatever arrives. A fresh buffer per call is not only slower (zeroed and page-faulted in
/// anew): freed buffers were not handed back to the system — 250 concurrent key creates on the
/// blocking pool left 8.5 GB resident after the burst (issue 15, F1; glibc's dynamic mmap
/// threshold, `man mallopt`, serves 19 MiB from its arenas once one such mapping was freed).
/// There is no other way to compute argon2 in this crate, so every hash and check is bounded.
#[derive(Default)]
pub struct Argon2Memory {
    blocks: Vec<Block>,
}

impl Argon2Memory {
    /// Grows only (to at most `OWN_COST`'s size, the most any checkable hash needs), so a
    /// cheaper imported hash does not make the next full-cost check allocate again.
    fn blocks(&mut self, needed: usize) -> &mut [Block] {
        if self.blocks.len() < needed {
            self.blocks = vec![Block::default(); needed];
        }
        &mut self.blocks[..needed]
    }

    /// Whether `secret` matches the PHC string `phc`; the comparison is constant-time
    /// (`subtle`). `Err` when `phc` cannot be checked against (malformed, or costing more than
    /// `OWN_COST`): nothing is computed then, and no memory allocated.
    pub fn verify(&mut self, secret: &str, phc: &str) -> Result<bool, UnusableHash> {
        let hash = CheckableHash::parse(phc)?;
        let mut out = vec![0u8; hash.expected.len()];
        hash.argon2
            .hash_password_into_with_memory(
                secret.as_bytes(),
                &hash.salt,
                &mut out,
                self.blocks(hash.block_count),
            )
            .map_err(|e| UnusableHash::Malformed(e.to_string()))?;
        Ok(bool::from(out.as_slice().ct_eq(&hash.expected)))
    }

    /// argon2id v19 PHC string of `secret` with the default parameters (`OWN_COST`) and a
    /// random 16-byte salt.
    pub fn hash(&mut self, secret: &str) -> Result<String> {
        let params = OWN_COST;
        let salt = random_bytes::<16>()?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        argon2
            .hash_password_into_with_memory(
                secret.as_bytes(),
                &salt,
                &mut out,
                self.blocks(params.block_count()),
            )
            .map_err(|e| Error::Internal(anyhow::anyhow!("argon2 hash failed: {e}")))?;
        Ok(phc_string(&params, &salt, &out))
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

    /// HMAC-SHA256 of `parts` (each followed by a zero byte) under a key derived from this one
    /// for `purpose`, so a MAC made for one use (console session cookies) is never valid for
    /// another and never reveals the sealing key.
    pub fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let derive = || -> Option<[u8; 32]> {
            let mut derived = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
            derived.update(purpose.as_bytes());
            let key: [u8; 32] = derived.finalize().into_bytes().into();
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            for part in parts {
                mac.update(part);
                mac.update(&[0]);
            }
            Some(mac.finalize().into_bytes().into())
        };
        // HMAC accepts keys of any length, so this cannot fail.
        derive().unwrap_or([0; 32])
    }
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
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
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// argon2's own hasher and verifier (one fresh buffer per call, no cost cap): the reference
    /// `Argon2Memory` is checked against. The server itself computes argon2 only through
    /// `Argon2Memory`, on the pool.
    fn hash_secret(secret: &str) -> String {
        Argon2::default()
            .hash_password(secret.as_bytes())
            .unwrap()
            .to_string()
    }

    fn verify_secret(secret: &str, phc: &str) -> bool {
        PasswordHash::new(phc).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &hash)
                .is_ok()
        })
    }

    #[test]
    fn the_reusable_hasher_makes_what_the_standard_verifier_accepts() {
        let mut hasher = Argon2Memory::default();
        let first = hasher.hash("s3cret").unwrap();
        let second = hasher.hash("other").unwrap();
        assert!(verify_secret("s3cret", &first), "{first}");
        assert!(!verify_secret("s3cret", &second));
        assert!(verify_secret("other", &second));
        assert!(check_secret_hash(&first).is_ok());
        let standard = hash_secret("s3cret");
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
    fn reused_argon2_memory_agrees_with_argon2() {
        let hash = hash_secret("s3cret");
        let mut memory = Argon2Memory::default();
        for _ in 0..2 {
            assert!(memory.verify("s3cret", &hash).unwrap());
            assert!(!memory.verify("s3cret!", &hash).unwrap());
            assert!(!memory.verify("s3cret ", &hash).unwrap());
        }
        // One buffer serves hashing and checking in turn.
        let made = memory.hash("other").unwrap();
        assert!(memory.verify("other", &made).unwrap());
        assert!(memory.verify("s3cret", &hash).unwrap());
    }

    #[test]
    fn the_dummy_hash_has_the_real_parameters_and_matches_nothing() {
        let dummy = dummy_hash();
        assert!(check_secret_hash(&dummy).is_ok(), "{dummy}");
        let real = hash_secret("s3cret");
        // Same algorithm, version and cost parameters: checking it costs what a real check does.
        assert_eq!(dummy.rsplitn(3, '$').nth(2), real.rsplitn(3, '$').nth(2));
        let mut memory = Argon2Memory::default();
        for guess in ["", "s3cret", "0123456789abcdef0123456789abcdef"] {
            assert!(!memory.verify(guess, &dummy).unwrap());
            assert!(!verify_secret(guess, &dummy));
        }
    }

    /// A PHC string of argon2id with these costs, a valid salt and output.
    fn costing(m: u32, t: u32, p: u32) -> String {
        let params = Params::new(m, t, p, None).unwrap();
        phc_string(&params, &[7; 16], &[1; Params::DEFAULT_OUTPUT_LEN])
    }

    #[test]
    fn a_hash_costing_more_than_ours_is_refused_and_never_computed() {
        let mut memory = Argon2Memory::default();
        // 4 GiB, 1000 passes, 8 lanes: each over one of our parameters.
        for over in [
            costing(4 * 1024 * 1024, 2, 1),
            costing(19 * 1024, 1000, 1),
            costing(19 * 1024, 2, 8),
        ] {
            let refused = check_secret_hash(&over).unwrap_err();
            assert!(matches!(refused, UnusableHash::OverCost { .. }), "{over}");
            assert!(
                refused.to_string().contains("at most m=19456, t=2, p=1"),
                "{refused}"
            );
            assert!(memory.verify("s3cret", &over).is_err(), "{over}");
            assert!(memory.blocks.is_empty(), "nothing allocated for {over}");
        }
        // A cheaper hash is usable and checks right; the buffer then holds what it needed.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"s3cret")
        .unwrap()
        .to_string();
        assert!(check_secret_hash(&cheap).is_ok(), "{cheap}");
        assert!(memory.verify("s3cret", &cheap).unwrap());
        assert!(!memory.verify("other", &cheap).unwrap());
        assert_eq!(memory.blocks.len(), 64);
        // Ours fits the cap exactly, in a buffer that never grows past it.
        let ours = memory.hash("s3cret").unwrap();
        assert!(memory.verify("s3cret", &ours).unwrap());
        assert!(memory.verify("s3cret", &cheap).unwrap());
        assert_eq!(memory.blocks.len(), OWN_COST.block_count());
    }

    #[test]
    fn a_malformed_hash_is_an_error_that_does_not_repeat_it() {
        let good = hash_secret("s3cret");
        let salt = good.rsplit('$').nth(1).unwrap().to_owned();
        let output = good.rsplit('$').next().unwrap().to_owned();
        let short_salt = good.replace(&salt, "c2FsdA");
        let mut memory = Argon2Memory::default();
        for bad in [
            "garbage".to_owned(),
            String::new(),
            good.replace("argon2id", "bcrypt"),
            good.replace(&output, ""),
            short_salt,
            good.replace("m=19456", "m=nineteen"),
        ] {
            let why = memory.verify("s3cret", &bad).unwrap_err();
            assert!(matches!(why, UnusableHash::Malformed(_)), "{bad}: {why:?}");
            assert!(check_secret_hash(&bad).is_err(), "{bad}");
            let text = why.to_string();
            assert!(!text.contains(&salt) && !text.contains(&output), "{text}");
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
