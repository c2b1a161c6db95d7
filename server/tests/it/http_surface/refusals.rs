//! Refusals shown on a page come only from the shop (signed links).

use super::*;

/// A refused plain form post comes back to its page with the refusal in
/// the link; only links the shop signed show it. The same link without
/// its signature (anyone can make one, with words of their own) shows the
/// page without it.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_shows_only_refusals_the_shop_wrote() {
    let site = site().await;
    for (page, function, form, words) in [
        (
            "/",
            "/api/cart/add",
            "article_id=unicorn&quantity=1",
            "We do not sell that article.",
        ),
        (
            "/admin",
            "/api/admin/sign_in",
            "name=nobody&password=not+the+password",
            "Wrong name or password.",
        ),
    ] {
        let refused = site
            .http
            .post(format!("{}{function}", site.base))
            .header(CONTENT_TYPE, FORM)
            .header("referer", format!("{}{page}", site.base))
            // As a browser posts a form without JavaScript.
            .header("accept", "text/html")
            .body(form)
            .send()
            .await
            .unwrap();
        assert!(
            refused.status().is_redirection(),
            "{function}: {}",
            refused.status()
        );
        let location = refused.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.contains("__err=") && location.contains("__sig="),
            "{location}"
        );
        let shown = |url: String| {
            let http = site.http.clone();
            async move { http.get(url).send().await.unwrap().text().await.unwrap() }
        };
        assert!(
            shown(location.clone()).await.contains(words),
            "{page}: ours is shown"
        );
        let unsigned: String = location.split("&__sig=").next().unwrap().to_owned();
        let body = shown(unsigned).await;
        assert!(
            !body.contains(words),
            "{page}: an unsigned refusal was shown"
        );
    }
}

/// leptos builds the redirect of a refused form post from the Referer: a
/// Referer that already carries a refusal (absolute, or relative, which
/// leptos passes on as it is) must not get the attacker's refusal signed.
#[tokio::test(flavor = "multi_thread")]
async fn a_referer_cannot_smuggle_a_refusal_into_a_signed_link() {
    let site = site().await;
    let planted = "__path=%2Fapi%2Fadmin%2Fsign_in&__err=UExBTlRFRA";
    for referer in [format!("{}/?{planted}", site.base), format!("/?{planted}")] {
        let response = site
            .http
            .post(format!("{}/api/cart/add", site.base))
            .header(CONTENT_TYPE, FORM)
            .header("accept", "text/html")
            .header("referer", &referer)
            .body("article_id=unicorn&quantity=1")
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(!location.contains("UExBTlRFRA"), "{referer}: {location}");
        assert!(!location.contains("sign_in"), "{referer}: {location}");
    }
}
