//! What DynamoDB's errors mean to the store.

use super::*;

pub(super) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Cause::new(e))
}

pub(super) fn sdk_unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(Cause::new(e))
}

pub(super) fn put(table: &str, item: Item, condition: &str) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .map_err(unavailable)
}

/// A canceled transaction whose condition failed becomes `on_condition`.
pub(super) fn transaction_error(
    e: SdkError<TransactWriteItemsError, impl std::fmt::Debug + Send + Sync + 'static>,
    on_condition: StoreError,
) -> StoreError {
    stock_transaction_error(e, on_condition, usize::MAX)
}

/// [`transaction_error`] of a transaction whose items from `stock_from` on
/// take stock: a failed condition there (and none before) is
/// [`StoreError::SoldOut`].
pub(super) fn stock_transaction_error(
    e: SdkError<TransactWriteItemsError, impl std::fmt::Debug + Send + Sync + 'static>,
    on_condition: StoreError,
    stock_from: usize,
) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
        e.as_service_error()
    {
        let failed: Vec<usize> = canceled
            .cancellation_reasons()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(i, _)| i)
            .collect();
        match failed.first() {
            Some(&first) if first >= stock_from => return StoreError::SoldOut,
            Some(_) => return on_condition,
            None => {}
        }
        let reasons = canceled.cancellation_reasons();
        // Another transaction on the same items was in flight: re-read and retry.
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return StoreError::Conflict;
        }
    }
    sdk_unavailable(e)
}
