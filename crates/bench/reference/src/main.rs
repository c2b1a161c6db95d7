//! The reference's server: the Leptos template's, unchanged in substance.

#[tokio::main]
async fn main() {
    use bare_leptos::{shell, App};
    use leptos::prelude::*;
    use leptos_axum::{generate_route_list, LeptosRoutes};

    let options = get_configuration(None)
        .expect("LEPTOS_* settings")
        .leptos_options;
    let address = options.site_addr;
    let routes = generate_route_list(App);
    let app = axum::Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .expect("the address is free");
    axum::serve(listener, app).await.expect("serves");
}
