//! Links that carry a server function's refusal back to its page. After a
//! plain form post (no JavaScript) is refused, leptos_axum sends the browser
//! back to the page with the refusal in the query (`__path`, `__err`), and
//! the page shows it above the form. Anyone can make such a link, with
//! words of their own above the sign-in form or the cart. So the shop signs
//! the links it makes (`__sig`: HMAC-SHA256 of the path and the refusal
//! under a key of its own) and removes the refusal from a link whose
//! signature does not match: a page shows only refusals the shop wrote.

use axum::extract::{Request, State};
use axum::http::header::{LOCATION, REFERER};
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

const PATH_PARAM: &str = "__path";
const ERROR_PARAM: &str = "__err";
const SIGNATURE_PARAM: &str = "__sig";

/// The key that signs refusal links. Every process of a deployment must
/// derive it from the same secret to honour each other's links (a
/// redirect and the page it leads to may be served by two Lambda
/// instances).
#[derive(Clone)]
pub struct ErrorLinkKey(Arc<[u8; 32]>);

impl std::fmt::Debug for ErrorLinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorLinkKey(redacted)")
    }
}

impl ErrorLinkKey {
    /// A key of its own from a secret the deployment shares (the secret
    /// itself never signs anything here).
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = Self::hmac(secret);
        mac.update(b"paper-and-clay refusal links v1");
        Self(Arc::new(mac.finalize().into_bytes().into()))
    }

    /// A key of this process alone: its links are honoured by it only
    /// (elsewhere the refusal is not shown, and nothing else changes).
    pub fn random() -> Self {
        Self(Arc::new(rand::random()))
    }

    fn hmac(key: &[u8]) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|e| unreachable!("HMAC takes a key of any length: {e}"))
    }

    fn mac(&self, path: &str, error: &str) -> Hmac<Sha256> {
        let mut mac = Self::hmac(self.0.as_slice());
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(error.as_bytes());
        mac
    }

    fn sign(&self, path: &str, error: &str) -> String {
        hex::encode(self.mac(path, error).finalize().into_bytes())
    }

    /// In constant time.
    fn verify(&self, path: &str, error: &str, signature: &str) -> bool {
        hex::decode(signature).is_ok_and(|bytes| self.mac(path, error).verify_slice(&bytes).is_ok())
    }
}

/// The refusal parameters of a query: path, refusal, signature.
fn refusal_of(query: &str) -> (Option<String>, Option<String>, Option<String>) {
    let (mut path, mut error, mut signature) = (None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            PATH_PARAM => path = Some(value.into_owned()),
            ERROR_PARAM => error = Some(value.into_owned()),
            SIGNATURE_PARAM => signature = Some(value.into_owned()),
            _ => {}
        }
    }
    (path, error, signature)
}

/// `uri` without its refusal, unless the shop signed it; `None`: keep it.
fn without_unsigned_refusal(key: &ErrorLinkKey, uri: &Uri) -> Option<Uri> {
    let query = uri.query()?;
    let (path, error, signature) = refusal_of(query);
    if path.is_none() && error.is_none() && signature.is_none() {
        return None;
    }
    if let (Some(path), Some(error), Some(signature)) = (&path, &error, &signature) {
        if key.verify(path, error, signature) {
            return None;
        }
    }
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| ![PATH_PARAM, ERROR_PARAM, SIGNATURE_PARAM].contains(&&**name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut rebuilt = uri.path().to_owned();
    if !kept.is_empty() {
        rebuilt.push('?');
        rebuilt.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    // Fail closed: the bare path if the rest cannot be rebuilt.
    Some(
        rebuilt
            .parse()
            .unwrap_or_else(|_| uri.path().parse().unwrap_or_else(|_| Uri::from_static("/"))),
    )
}

/// The `Referer` a refused form post is sent back to, without any refusal
/// in it: leptos_axum builds the redirect from it, and one that already
/// carried a refusal (or that is not an absolute URL, which leptos passes
/// on unchanged) would have the shop sign words it did not write. `None`:
/// drop the header.
fn clean_referer(referer: &str) -> Option<HeaderValue> {
    let mut url = url::Url::parse(referer).ok()?;
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| ![PATH_PARAM, ERROR_PARAM, SIGNATURE_PARAM].contains(&&**name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut().extend_pairs(kept);
    }
    HeaderValue::from_str(url.as_str()).ok()
}

/// `location` with the signature of the refusal it carries.
fn signed_location(key: &ErrorLinkKey, location: &str) -> Option<HeaderValue> {
    // leptos builds it from a cleaned Referer: no fragment, one refusal.
    let (_, query) = location.split_once('?')?;
    if location.contains('#') {
        return None;
    }
    let (Some(path), Some(error), _) = refusal_of(query) else {
        return None;
    };
    let signature = key.sign(&path, &error);
    HeaderValue::from_str(&format!("{location}&{SIGNATURE_PARAM}={signature}")).ok()
}

/// Removes an unsigned refusal from the request's query before the page
/// sees it, and signs the refusal in a redirect the shop answers.
pub async fn sign_and_check(
    State(key): State<ErrorLinkKey>,
    mut request: Request,
    next: Next,
) -> Response {
    let referer = request.headers().get(REFERER).and_then(|v| v.to_str().ok());
    match referer.map(clean_referer) {
        Some(Some(clean)) => {
            request.headers_mut().insert(REFERER, clean);
        }
        Some(None) => {
            request.headers_mut().remove(REFERER);
        }
        None => {}
    }
    let is_post = request.method() == axum::http::Method::POST;
    if let Some(cleaned) = without_unsigned_refusal(&key, request.uri()) {
        tracing::info!(
            security_event = true,
            path = cleaned.path(),
            "a refusal link the shop did not sign was ignored"
        );
        *request.uri_mut() = cleaned;
    }
    let mut response = next.run(request).await;
    let signed = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        // Only the answer to a form post carries a refusal back.
        .filter(|location| is_post && location.contains(ERROR_PARAM))
        .and_then(|location| signed_location(&key, location));
    if let Some(signed) = signed {
        response.headers_mut().insert(LOCATION, signed);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn a_link_the_shop_signed_keeps_its_refusal_and_any_other_loses_it() {
        let key = ErrorLinkKey::derive(b"a secret the deployment shares");
        let location =
            "http://shop.example/?a=1&__path=%2Fapi%2Fcart%2Fadd&__err=eyJSZWZ1c2VkIjoieCJ9";
        let signed = signed_location(&key, location).unwrap();
        let signed = signed.to_str().unwrap();
        let (_, query) = signed.split_once('?').unwrap();
        let ours = uri(&format!("/?{query}"));
        assert_eq!(without_unsigned_refusal(&key, &ours), None, "ours is kept");

        // Another key (another shop, or a guess), a changed refusal, none.
        let other = ErrorLinkKey::derive(b"another secret");
        assert_eq!(without_unsigned_refusal(&other, &ours), Some(uri("/?a=1")));
        let changed = uri(&format!(
            "/?{}",
            query.replace("eyJSZWZ1c2VkIjoieCJ9", "eyJSZWZ1c2VkIjoieSJ9")
        ));
        assert_eq!(without_unsigned_refusal(&key, &changed), Some(uri("/?a=1")));
        let forged = uri("/admin?__path=%2Fapi%2Fadmin%2Fsign_in&__err=eyJSZWZ1c2VkIjoieCJ9");
        assert_eq!(without_unsigned_refusal(&key, &forged), Some(uri("/admin")));
        // Queries without a refusal are left alone.
        assert_eq!(without_unsigned_refusal(&key, &uri("/?page=2")), None);
        assert_eq!(without_unsigned_refusal(&key, &uri("/orders/ord_1")), None);
    }

    #[test]
    fn a_referer_loses_any_refusal_it_carries_and_must_be_absolute() {
        let cleaned = clean_referer(
            "http://shop.example/admin?a=1&__path=%2Fapi%2Fadmin%2Fsign_in&__err=eA&__sig=00#top",
        )
        .unwrap();
        assert_eq!(cleaned.to_str().unwrap(), "http://shop.example/admin?a=1");
        assert_eq!(
            clean_referer("http://shop.example/")
                .unwrap()
                .to_str()
                .unwrap(),
            "http://shop.example/"
        );
        assert!(clean_referer("/?__path=%2Fapi%2Fcart%2Fadd&__err=eA").is_none());
        assert!(clean_referer("not a url").is_none());
    }

    #[test]
    fn the_key_is_never_shown() {
        let key = ErrorLinkKey::derive(b"a secret the deployment shares");
        assert_eq!(format!("{key:?}"), "ErrorLinkKey(redacted)");
    }
}
