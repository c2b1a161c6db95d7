//! Who may use the back office, and how a signed-in operator is known on
//! the next request.
//!
//! - Accounts: a name and an argon2id password hash (a PHC string, from
//!   `server hash-password`), from configuration. No password is stored.
//! - Sessions: the operator's name and an expiry in a cookie signed with
//!   HMAC-SHA256 under the shop's session secret. The server keeps nothing,
//!   so a session works on any process (the plain server, every Lambda
//!   instance). The cookie is HttpOnly and SameSite=Strict (another site's
//!   page cannot send it), and Secure behind https. A session ends at its
//!   expiry, at sign-out, when the secret changes, or when the operator's
//!   account is removed.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use cookie::{Cookie, CookieJar, Key, SameSite};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "operator_session";
/// The shortest session secret accepted (bytes): HMAC-SHA256's key size.
pub const MIN_SECRET_BYTES: usize = 32;

/// Why the operators' configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("operator accounts: {}", .0.join("; "))]
    Accounts(Vec<String>),
    #[error("the session secret must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)")]
    ShortSecret,
}

/// The operator accounts.
#[derive(Clone, Debug, Default)]
pub struct Operators {
    /// name -> PHC string (checked at parse time).
    accounts: BTreeMap<String, String>,
}

/// A hash to verify against when the name is unknown, so that a wrong name
/// takes as long as a wrong password (no way to learn which names exist).
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("a decoy that matches nothing"))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

impl Operators {
    /// Accounts as `name:$argon2id$...` entries separated by whitespace
    /// (the PHC string has no spaces). Every bad entry is listed.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Accounts`] naming each entry that is not a valid name
    /// with an argon2id hash, or a name given twice.
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let mut accounts = BTreeMap::new();
        let mut problems = Vec::new();
        for (index, entry) in spec.split_whitespace().enumerate() {
            let number = index + 1;
            let Some((name, hash)) = entry.split_once(':') else {
                problems.push(format!("entry {number} is not name:hash"));
                continue;
            };
            if !valid_name(name) {
                problems.push(format!(
                    "entry {number}: a name is 1 to 64 letters, digits or . _ - @"
                ));
                continue;
            }
            match PasswordHash::new(hash) {
                Ok(parsed) if parsed.algorithm.as_str() == "argon2id" => {}
                Ok(_) | Err(_) => {
                    problems.push(format!(
                        "{name}: not an argon2id hash (make one with `server hash-password`)"
                    ));
                    continue;
                }
            }
            if accounts.insert(name.to_owned(), hash.to_owned()).is_some() {
                problems.push(format!("{name} is given twice"));
            }
        }
        if problems.is_empty() {
            Ok(Self { accounts })
        } else {
            Err(ConfigError::Accounts(problems))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.accounts.contains_key(name)
    }

    /// The operator's name when the password is theirs.
    pub fn verify(&self, name: &str, password: &str) -> Option<String> {
        let (known, hash) = match self.accounts.get(name) {
            Some(hash) => (true, hash.as_str()),
            None => (false, decoy_hash()),
        };
        let matches = PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        (known && matches).then(|| name.to_owned())
    }
}

/// An argon2id hash of `password` with a fresh salt and the crate's
/// default parameters (OWASP's minimum: 19 MiB, 2 passes), as a PHC string.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_else(|e| unreachable!("argon2 with its own defaults cannot fail: {e}"))
}

/// Issues and checks session cookies.
#[derive(Clone)]
pub struct Sessions {
    key: Key,
    lifetime: Duration,
    /// Browsers send it over https only.
    secure: bool,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Sessions")
            .field("lifetime", &self.lifetime)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// # Errors
    ///
    /// [`ConfigError::ShortSecret`] for a secret under [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], lifetime: Duration, secure: bool) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::ShortSecret);
        }
        Ok(Self {
            key: Key::derive_from(secret),
            lifetime,
            secure,
        })
    }

    /// The cookie that signs `operator` in until `now` + the lifetime.
    pub fn sign_in(&self, operator: &str, now: OffsetDateTime) -> Cookie<'static> {
        let expires = now + self.lifetime;
        let cookie = self
            .base(format!("{operator}|{}", expires.unix_timestamp()))
            .max_age(self.lifetime)
            .build();
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(cookie);
        jar.get(SESSION_COOKIE)
            .cloned()
            .unwrap_or_else(|| unreachable!("the cookie was just added"))
    }

    /// The cookie that ends the session in this browser.
    pub fn sign_out(&self) -> Cookie<'static> {
        self.base(String::new()).max_age(Duration::ZERO).build()
    }

    fn base(&self, value: String) -> cookie::CookieBuilder<'static> {
        Cookie::build((SESSION_COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
    }

    /// The signed-in operator, from the `Cookie` header values of a
    /// request: a cookie signed with our key, not expired, naming an
    /// operator who still has an account.
    pub fn operator<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        operators: &Operators,
        now: OffsetDateTime,
    ) -> Option<String> {
        let jar = CookieJar::new();
        let signed = jar.signed(&self.key);
        cookie_headers
            .into_iter()
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == SESSION_COOKIE)
            .find_map(|c| {
                let verified = signed.verify(c.into_owned())?;
                let (name, expires) = verified.value().rsplit_once('|')?;
                let expires = OffsetDateTime::from_unix_timestamp(expires.parse().ok()?).ok()?;
                (now < expires && operators.contains(name)).then(|| name.to_owned())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn alice() -> Operators {
        Operators::parse(&format!("alice:{}", hash_password("correct horse"))).unwrap()
    }

    fn header(cookie: &Cookie<'_>) -> String {
        format!("cart=x; {}={}", cookie.name(), cookie.value())
    }

    #[test]
    fn a_password_is_checked_against_its_hash() {
        let operators = alice();
        assert_eq!(
            operators.verify("alice", "correct horse").as_deref(),
            Some("alice")
        );
        assert_eq!(operators.verify("alice", "wrong"), None);
        assert_eq!(operators.verify("mallory", "correct horse"), None);
    }

    #[test]
    fn every_bad_account_is_listed() {
        let good = hash_password("pw");
        let spec = format!("alice:{good} bob nobody:plain alice:{good} b!d:{good}");
        let Err(ConfigError::Accounts(problems)) = Operators::parse(&spec) else {
            panic!("accepted")
        };
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("not name:hash"));
        assert!(problems[1].contains("nobody: not an argon2id hash"));
        assert!(problems[2].contains("alice is given twice"));
        assert!(problems[3].contains("a name is"));
    }

    #[test]
    fn a_session_names_its_operator_until_it_expires() {
        let operators = alice();
        let sessions = Sessions::new(SECRET, Duration::hours(8), true).unwrap();
        let now = OffsetDateTime::now_utc();
        let cookie = sessions.sign_in("alice", now);
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(cookie.secure(), Some(true));
        let header = header(&cookie);
        assert_eq!(
            sessions
                .operator([header.as_str()], &operators, now)
                .as_deref(),
            Some("alice")
        );
        let later = now + Duration::hours(8) + Duration::seconds(1);
        assert_eq!(
            sessions.operator([header.as_str()], &operators, later),
            None
        );
    }

    #[test]
    fn a_forged_or_foreign_session_names_nobody() {
        let operators = alice();
        let sessions = Sessions::new(SECRET, Duration::hours(8), false).unwrap();
        let now = OffsetDateTime::now_utc();
        let cookie = sessions.sign_in("alice", now);
        // Another shop's secret.
        let other = Sessions::new(&[7; 32], Duration::hours(8), false).unwrap();
        assert_eq!(
            other.operator([header(&cookie).as_str()], &operators, now),
            None
        );
        // The value changed (a longer expiry) without the key.
        let tampered = cookie.value().replace('|', "|9");
        let forged = format!("{SESSION_COOKIE}={tampered}");
        assert_eq!(sessions.operator([forged.as_str()], &operators, now), None);
        // The account was removed.
        let bob = Operators::parse(&format!("bob:{}", hash_password("pw"))).unwrap();
        assert_eq!(
            sessions.operator([header(&cookie).as_str()], &bob, now),
            None
        );
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(
            Sessions::new(b"short", Duration::hours(1), true).unwrap_err(),
            ConfigError::ShortSecret
        );
    }
}
