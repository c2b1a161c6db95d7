//! What the tests of several crates share (and the bench, for its ports).

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A loopback port nothing listens on now (the OS's choice).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// moto server's URL: scripts/test.sh starts it and sets
/// `SHOP_TEST_AWS_ENDPOINT`.
///
/// # Panics
/// When `SHOP_TEST_AWS_ENDPOINT` is not set.
pub fn moto_endpoint() -> String {
    std::env::var("SHOP_TEST_AWS_ENDPOINT")
        .expect("SHOP_TEST_AWS_ENDPOINT is not set: run scripts/test.sh, which starts moto server")
}

/// Log output captured in memory: a tracing-subscriber writer whose
/// clones all write to the same buffer.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
