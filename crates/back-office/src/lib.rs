//! Who may use the back office, and how a signed-in operator is known on
//! the next request.
//!
//! - Accounts: a name and an argon2id password hash (a PHC string, from
//!   `server hash-password`), from configuration. No password is stored.
//! - Sessions: the operator's name, when it was issued, when it expires and
//!   which password it was signed in with (the hash's salt, public by
//!   design), in a cookie signed with HMAC-SHA256 under the shop's session
//!   secret. The cookie is HttpOnly and SameSite=Strict (another site's page
//!   cannot send it), and Secure behind https. A session ends at its
//!   expiry, when the secret changes, when the operator's account is
//!   removed or their password changed, and, through the time after which
//!   the store holds an operator's sessions valid ([`Session::issued_at`]),
//!   at sign-out on every process.

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
#[derive(Clone, Debug)]
pub struct Operators {
    /// name -> PHC string (checked at parse time).
    accounts: BTreeMap<String, String>,
    /// Verified against when the name is unknown, so that a wrong name
    /// takes as long as a wrong password (no way to learn which names
    /// exist). Made with the accounts, at start: made on first use, the
    /// first unknown name would cost two hashes and tell itself apart.
    decoy: String,
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
            Ok(Self {
                accounts,
                decoy: hash_password("a decoy that matches nothing"),
            })
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

    /// Which password an account has: its hash's salt, new with every
    /// hash. A session carries it, so a changed password ends it.
    fn password_tag(&self, name: &str) -> Option<String> {
        let hash = PasswordHash::new(self.accounts.get(name)?).ok()?;
        Some(hash.salt?.as_str().to_owned())
    }

    /// The operator's name when the password is theirs. Deliberately slow
    /// (argon2id, tens of milliseconds): call it off the async executor
    /// (`tokio::task::spawn_blocking`).
    pub fn verify(&self, name: &str, password: &str) -> Option<String> {
        let (known, hash) = match self.accounts.get(name) {
            Some(hash) => (true, hash.as_str()),
            None => (false, self.decoy.as_str()),
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

    /// The cookie that signs `operator` (one of `operators`) in until
    /// `now` + the lifetime, with the password they have now.
    pub fn sign_in(
        &self,
        operators: &Operators,
        operator: &str,
        now: OffsetDateTime,
    ) -> Cookie<'static> {
        let expires = now + self.lifetime;
        let tag = operators.password_tag(operator).unwrap_or_default();
        let issued_ms = now.unix_timestamp_nanos() / 1_000_000;
        let cookie = self
            .base(format!(
                "{operator}|{}|{issued_ms}|{tag}",
                expires.unix_timestamp()
            ))
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

    /// The signed-in operator's name (see [`Sessions::session`]).
    pub fn operator<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        operators: &Operators,
        now: OffsetDateTime,
    ) -> Option<String> {
        self.session(cookie_headers, operators, now)
            .map(|session| session.operator)
    }

    /// The session of a request, from its `Cookie` header values: a cookie
    /// signed with our key, not expired, naming an operator who still has
    /// an account with the password they signed in with. Whether the
    /// operator ended their sessions since is the store's to say.
    pub fn session<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a str>,
        operators: &Operators,
        now: OffsetDateTime,
    ) -> Option<Session> {
        let jar = CookieJar::new();
        let signed = jar.signed(&self.key);
        cookie_headers
            .into_iter()
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == SESSION_COOKIE)
            .find_map(|c| {
                let verified = signed.verify(c.into_owned())?;
                let mut fields = verified.value().split('|');
                let (name, expires, issued_ms, tag) = (
                    fields.next()?,
                    fields.next()?,
                    fields.next()?,
                    fields.next()?,
                );
                let expires = OffsetDateTime::from_unix_timestamp(expires.parse().ok()?).ok()?;
                let issued_at = OffsetDateTime::from_unix_timestamp_nanos(
                    issued_ms.parse::<i128>().ok()?.checked_mul(1_000_000)?,
                )
                .ok()?;
                let current = operators.password_tag(name)?;
                (now < expires && fields.next().is_none() && current == tag).then(|| Session {
                    operator: name.to_owned(),
                    issued_at,
                })
            })
    }
}

/// A signed-in operator's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub operator: String,
    /// Sessions issued at or before the time the operator last ended
    /// their sessions (sign-out) are over.
    pub issued_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn the_decoy_is_made_with_the_accounts_not_on_first_use() {
        let operators = Operators::parse("").unwrap();
        let decoy = PasswordHash::new(&operators.decoy).expect("a PHC string");
        assert_eq!(decoy.algorithm.as_str(), "argon2id");
        assert_eq!(
            operators.verify("nobody", "a decoy that matches nothing"),
            None
        );
    }

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
        let cookie = sessions.sign_in(&operators, "alice", now);
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
        let cookie = sessions.sign_in(&operators, "alice", now);
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
        // The password was changed (the same one again: a new hash).
        let changed =
            Operators::parse(&format!("alice:{}", hash_password("correct horse"))).unwrap();
        assert_eq!(
            sessions.operator([header(&cookie).as_str()], &changed, now),
            None
        );
    }

    #[test]
    fn a_session_says_when_it_was_issued() {
        let operators = alice();
        let sessions = Sessions::new(SECRET, Duration::hours(8), false).unwrap();
        let now = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_000_000).unwrap();
        let cookie = sessions.sign_in(&operators, "alice", now);
        let session = sessions
            .session([header(&cookie).as_str()], &operators, now)
            .unwrap();
        assert_eq!(session.operator, "alice");
        assert_eq!(session.issued_at, now);
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(
            Sessions::new(b"short", Duration::hours(1), true).unwrap_err(),
            ConfigError::ShortSecret
        );
    }
}
