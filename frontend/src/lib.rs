use leptos::prelude::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A server-function redirect goes to the provider's checkout page, which
    // is never one of our routes: always load it as a whole page. (Set
    // before the router sets its own client-side hook; the first one wins.)
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        if window().location().set_href(location).is_err() {
            leptos::logging::error!("could not redirect to the checkout page");
        }
    });
    leptos::mount::hydrate_body(app::App);
    // Lets end-to-end tests wait until the page is interactive.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
