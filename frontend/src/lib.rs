use leptos::prelude::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A server-function redirect (checkout, pay again) goes to the provider's
    // checkout page: load it as a whole page. Islands have no client-side
    // router to do it.
    let _ = server_fn::redirect::set_redirect_hook(|location: &str| {
        if window().location().set_href(location).is_err() {
            leptos::logging::error!("could not redirect to the checkout page");
        }
    });
    app::hydrate_islands();
    // Lets end-to-end tests wait until the islands are interactive.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
