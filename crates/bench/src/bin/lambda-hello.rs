//! The Lambda reference: a bare lambda_http function answering "hello",
//! beside which the shop's function is measured (the bench starts it in
//! cargo lambda watch, for scripts/bench.sh and scripts/lambda-figures.sh).

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
