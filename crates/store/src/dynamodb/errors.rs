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
    if let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
        e.as_service_error()
    {
        let reasons = canceled.cancellation_reasons();
        if reasons
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed"))
        {
            return on_condition;
        }
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
