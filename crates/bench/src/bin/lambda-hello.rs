//! The bench's Lambda reference: a bare lambda_http function answering
//! "hello", started by cargo lambda watch beside the shop's function.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
