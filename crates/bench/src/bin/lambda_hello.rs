//! A bare lambda_http function answering "ok": the reference beside which
//! the shop's cold start on Lambda is measured (scripts/lambda-figures.sh).

use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async { Ok::<_, Error>("ok") })).await
}
