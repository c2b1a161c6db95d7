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

/// The system's clock moved ahead by hand: time still flows (the emulator,
/// timeouts and retries run on real time), and a test jumps over a wait a
/// rule depends on (an in-flight window, a check due) with [`Self::advance`]
/// instead of sleeping through it.
#[derive(Debug, Default)]
pub struct AdjustableClock {
    ahead: Mutex<time::Duration>,
}

impl AdjustableClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock `by` ahead, for every reader from now on.
    pub fn advance(&self, by: std::time::Duration) {
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        let mut ahead = self
            .ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *ahead = ahead.saturating_add(by);
    }
}

impl checkout::Clock for AdjustableClock {
    fn now(&self) -> time::OffsetDateTime {
        let ahead = *self
            .ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        time::OffsetDateTime::now_utc() + ahead
    }
}
