//! Group commit for the embedded store: one thread owns redb's single write
//! transaction and runs every write that is waiting when it starts in that
//! one transaction, so the writes that arrive together share one commit (and
//! its fsync). Each caller is answered only after the commit that holds its
//! write is durable.
//!
//! A write that fails is taken out of its group: the transaction is aborted,
//! that caller gets its error, and the others run again in a new
//! transaction. A failed write therefore never leaves half of itself behind,
//! and never costs its neighbours their write.

use checkout::{Cause, StoreError};
use redb::{Database, WriteTransaction};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// At most this many writes share one transaction: enough to absorb a
/// burst, bounded so a failing write's re-runs stay cheap.
const MAX_GROUP: usize = 128;

/// A write: checks and inserts inside the transaction it is given. It may
/// run more than once (after a neighbour's failure), always against the
/// state before it, so it must not have effects outside the transaction.
pub(crate) type Work = Box<dyn Fn(&WriteTransaction) -> Result<(), StoreError> + Send>;

struct Job {
    work: Work,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle to the writer thread. Dropping the last handle lets the
/// thread finish what it was given and waits for it, so the database file
/// is closed when the store is gone (and can be opened again).
pub(crate) struct GroupCommitter {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable(Cause::message("the embedded store's writer has stopped"))
}

impl GroupCommitter {
    pub(crate) fn start(db: Arc<Database>) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("redb-writer".into())
            .spawn(move || run(&db, &queue))
            .map_err(|e| StoreError::Unavailable(Cause::new(e)))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the next group; returns once it is committed (or
    /// failed, having written nothing).
    pub(crate) async fn write(&self, work: Work) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(Job { work, done })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for GroupCommitter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(db: &Database, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(db, group);
    }
}

fn commit_group(db: &Database, mut group: Vec<Job>) {
    while !group.is_empty() {
        let tx = match db.begin_write() {
            Ok(tx) => tx,
            Err(e) => {
                let error = StoreError::Unavailable(Cause::new(e));
                for job in group {
                    let _ = job.done.send(Err(error.clone()));
                }
                return;
            }
        };
        let failed = group.iter().enumerate().find_map(|(i, job)| {
            // A panicking write is that write's failure, not the writer's end.
            match catch_unwind(AssertUnwindSafe(|| (job.work)(&tx))) {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some((i, error)),
                Err(_) => Some((
                    i,
                    StoreError::Unavailable(Cause::message(
                        "a write to the embedded store panicked",
                    )),
                )),
            }
        });
        if let Some((i, error)) = failed {
            // Undo the group's writes so far (the failed one's included),
            // answer the failed write, run the rest again.
            let _ = tx.abort();
            let _ = group.remove(i).done.send(Err(error));
            continue;
        }
        let outcome = tx
            .commit()
            .map_err(|e| StoreError::Unavailable(Cause::new(e)));
        for job in group {
            let _ = job.done.send(outcome.clone());
        }
        return;
    }
}
