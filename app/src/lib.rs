//! The shop's pages. They render on the server; only the islands
//! ([`storefront::Shop`], [`thank_you::OrderLive`]) hydrate in the browser,
//! which keeps the wasm bundle small. Server functions in [`api`] are thin:
//! they call the checkout service the server provides as context.

// The back office renders on the server only and posts plain forms, so the
// browser never needs its code: compiled for the wasm build, its server
// functions' client halves alone added 177 bytes to the storefront's bundle.
#[cfg(feature = "ssr")]
pub mod back_office;
#[cfg(not(feature = "ssr"))]
mod back_office {
    use leptos::prelude::*;

    #[component]
    pub fn BackOfficeOrders() -> impl IntoView {}

    #[component]
    pub fn BackOfficeOrder() -> impl IntoView {}

    #[component]
    pub fn BackOfficeStock() -> impl IntoView {}
}
// The withdrawal function: server-rendered plain forms, like the back
// office, so none of it goes into the wasm bundle.
#[cfg(feature = "ssr")]
pub mod withdraw;
#[cfg(not(feature = "ssr"))]
mod withdraw {
    use leptos::prelude::*;

    #[component]
    pub fn WithdrawForm() -> impl IntoView {}

    #[component]
    pub fn WithdrawConfirm() -> impl IntoView {}

    #[component]
    pub fn WithdrawReceived() -> impl IntoView {}
}
pub mod api;
mod storefront;
mod thank_you;

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

pub use storefront::Storefront;
pub use thank_you::ThankYou;

/// The HTML document around the app, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options)/>
                <AutoReload options=options.clone()/>
                {hydration_scripts(options)}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// leptos's `HydrationScripts` for islands, rendered once per process
/// with a stand-in nonce that each page's own replaces: rendering it reads
/// the build's hash file, 10% of a storefront view's CPU when done on every
/// page. The first page's options count for the process (one site per
/// process). The shop has no wasm-split manifest, whose context
/// `HydrationScripts` would provide on each page.
#[cfg(feature = "ssr")]
fn hydration_scripts(options: LeptosOptions) -> impl IntoView {
    use leptos::nonce::{use_nonce, Nonce};
    use leptos::tachys::html::InertElement;
    use leptos::tachys::view::RenderHtml;
    use std::sync::OnceLock;
    const STAND_IN: &str = "hydration-scripts-nonce-stand-in";
    static HTML: OnceLock<String> = OnceLock::new();
    let Some(nonce) = use_nonce() else {
        return view! { <HydrationScripts options islands=true/> }.into_any();
    };
    let html = HTML.get_or_init(|| {
        Owner::new().with(|| {
            provide_context(Nonce::from_value(STAND_IN));
            view! { <HydrationScripts options islands=true/> }.to_html()
        })
    });
    // What `HydrationScripts` also does on each page, in islands mode.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    InertElement::new(html.replace(STAND_IN, &nonce)).into_any()
}

/// The site's stylesheet: `/pkg/shop.<hash>.css` when the build names its
/// files by their content (cargo-leptos hash-files), so that they can be
/// cached for good. The hash is read once, from the file cargo-leptos writes
/// beside the binary; leptos_meta's `HashedStylesheet` read it on every
/// page, 9% of a storefront view's CPU.
#[cfg(feature = "ssr")]
fn stylesheet_href(options: &LeptosOptions) -> &'static str {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let hash = options
            .hash_files
            .then(|| {
                let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
                let hashes = std::fs::read_to_string(dir.join(options.hash_file.as_ref())).ok()?;
                hashes.lines().find_map(|line| {
                    let (file, hash) = line.split_once(':')?;
                    (file.trim() == "css").then(|| hash.trim().to_owned())
                })
            })
            .flatten();
        let name = match hash {
            Some(hash) => format!("{}.{hash}", options.output_name),
            None => options.output_name.to_string(),
        };
        format!("/{}/{name}.css", options.site_pkg_dir)
    })
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    security::set_content_security_policy();
    view! {
        <Title text="Paper & Clay · Webshop"/>
        <Router>
            <header class="site-header">
                <A href="/" attr:class="brand">"Paper & Clay"</A>
            </header>
            <main class="page">
                // Async: the whole page is rendered before it is sent, so it
                // is complete without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=path!("") view=Storefront ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:id") view=ThankYou ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=back_office::BackOfficeOrders ssr=SsrMode::Async/>
                    <Route path=path!("/admin/orders/:id") view=back_office::BackOfficeOrder ssr=SsrMode::Async/>
                    <Route path=path!("/admin/stock") view=back_office::BackOfficeStock ssr=SsrMode::Async/>
                    <Route path=path!("/withdraw") view=withdraw::WithdrawForm ssr=SsrMode::Async/>
                    <Route path=path!("/withdraw/confirm") view=withdraw::WithdrawConfirm ssr=SsrMode::Async/>
                    <Route path=path!("/withdraw/received") view=withdraw::WithdrawReceived ssr=SsrMode::Async/>
                </Routes>
            </main>
            // Every page, as Art. 11a of Directive 2011/83/EU asks.
            <footer class="site-footer">
                <a href="/withdraw">"Withdraw from contract here"</a>
            </footer>
        </Router>
    }
}

/// Unknown pages and unknown orders, with a real 404 status.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="panel not-found">
            <h1>"Not found"</h1>
            <p>"We could not find that page or order."</p>
            <a class="button" href="/">"Back to the shop"</a>
        </section>
    }
}

/// Hydrates the islands. Called from the wasm entry point (frontend), which
/// must use this crate for the islands' exports to be linked into the wasm.
#[cfg(feature = "hydrate")]
pub fn hydrate_islands() {
    leptos::mount::hydrate_islands();
}

#[cfg(feature = "ssr")]
pub mod security {
    use leptos::prelude::*;

    /// Where the payment provider's checkout pages are, e.g.
    /// `https://www.mollie.com`; the server provides it as context.
    #[derive(Clone, Debug, Default)]
    pub struct PaymentPageOrigin(pub String);

    /// The back office's accounts and how sessions are signed; provided
    /// only when operators are configured (otherwise the back office is off).
    #[derive(Clone, Debug)]
    pub struct OperatorAccess {
        pub operators: ::back_office::Operators,
        pub sessions: ::back_office::Sessions,
        /// Failed sign-ins allowed per account and per client, counted in
        /// the store (shared by every process).
        pub sign_in_limits: checkout::SignInLimits,
        /// When this process read the accounts: an operator whose sessions
        /// were ended after it (a changed password, a removed account) is
        /// not signed in here, since these accounts may be the old ones.
        pub accounts_loaded_at: time::OffsetDateTime,
    }

    /// The client a request counts against (the server's rate limits
    /// decide who that is: the peer, or the viewer behind CloudFront); the
    /// server puts it in every request's extensions.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ClientAddress(pub std::net::IpAddr);

    /// How cookies are set: `secure` behind https (then browsers send them
    /// over https only).
    #[derive(Clone, Debug, Default)]
    pub struct CookiePolicy {
        pub secure: bool,
    }

    /// Every page's Content-Security-Policy, with this response's nonce for
    /// Leptos' inline hydration script. `form-action` names the provider:
    /// a checkout form post without JavaScript is redirected there.
    pub fn set_content_security_policy() {
        let (Some(nonce), Some(response)) =
            (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
        else {
            return;
        };
        let provider = use_context::<PaymentPageOrigin>().unwrap_or_default().0;
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data: {provider}; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'none'; form-action 'self' {provider}"
        );
        if let Ok(value) = http::HeaderValue::from_str(policy.trim_end()) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}
