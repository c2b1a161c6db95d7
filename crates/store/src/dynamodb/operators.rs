//! The back office's operators: failed sign-ins counted per key, and
//! sessions ended per operator.

use super::*;

impl DynamoDbStore {
    pub(super) async fn count_sign_in(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: std::time::Duration,
    ) -> Result<u32, StoreError> {
        let now_ms = unix_millis(now);
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let window_ends = now_ms.saturating_add(window_ms);
        // Two processes may race at a window's start: whoever starts it,
        // the other adds to it (a few rounds at most).
        for _ in 0..MAX_COUNT_ROUNDS {
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(sign_in_pk(key)))
                .key("sk", AttributeValue::S(SIGN_IN_SK.into()))
                .update_expression("ADD failures :one")
                .condition_expression("window_ends > :now")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
                .send()
                .await;
            match added {
                Ok(output) => {
                    let count = number(output.attributes.as_ref(), "failures").unwrap_or(1);
                    return Ok(u32::try_from(count).unwrap_or(u32::MAX));
                }
                Err(error) if is_conditional_check_failure(&error) => {}
                Err(error) => return Err(sdk_unavailable(error)),
            }
            let started = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(sign_in_pk(key)))
                .key("sk", AttributeValue::S(SIGN_IN_SK.into()))
                .update_expression("SET failures = :one, window_ends = :ends, #ttl = :ttl")
                .condition_expression("attribute_not_exists(pk) OR window_ends <= :now")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .expression_attribute_values(":ends", AttributeValue::N(window_ends.to_string()))
                .expression_attribute_values(
                    ":ttl",
                    AttributeValue::N((window_ends / 1000 + 1).to_string()),
                )
                .send()
                .await;
            match started {
                Ok(_) => return Ok(1),
                Err(error) if is_conditional_check_failure(&error) => {}
                Err(error) => return Err(sdk_unavailable(error)),
            }
        }
        Err(StoreError::Conflict)
    }

    pub(super) async fn forgive_sign_in(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let taken_back = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(sign_in_pk(key)))
            .key("sk", AttributeValue::S(SIGN_IN_SK.into()))
            .update_expression("ADD failures :minus_one")
            .condition_expression("window_ends > :now AND failures > :zero")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":now", AttributeValue::N(unix_millis(now).to_string()))
            .send()
            .await;
        match taken_back {
            Ok(_) => Ok(()),
            // The window ended, or there is nothing to take back.
            Err(error) if is_conditional_check_failure(&error) => Ok(()),
            Err(error) => Err(sdk_unavailable(error)),
        }
    }

    pub(super) async fn end_sessions(
        &self,
        operator: &str,
        at: OffsetDateTime,
        why: SessionsEnd,
    ) -> Result<(), StoreError> {
        let at = unix_millis(at);
        let mut fields = vec!["valid_after"];
        if why == SessionsEnd::AccountChanged {
            fields.push("account_changed_at");
        }
        // Each time moves forward on its own condition: a later sign-out
        // must not keep an account change from being marked.
        for field in fields {
            let moved = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(operator_pk(operator)))
                .key("sk", AttributeValue::S(SESSIONS_SK.into()))
                .update_expression("SET #field = :at")
                .condition_expression("attribute_not_exists(#field) OR #field < :at")
                .expression_attribute_names("#field", field)
                .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
                .send()
                .await;
            match moved {
                Ok(_) => {}
                Err(error) if is_conditional_check_failure(&error) => {}
                Err(error) => return Err(sdk_unavailable(error)),
            }
        }
        Ok(())
    }

    pub(super) async fn sessions_of(&self, operator: &str) -> Result<OperatorSessions, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(operator_pk(operator)))
            .key("sk", AttributeValue::S(SESSIONS_SK.into()))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let time_of = |name| {
            number(found.item.as_ref(), name)
                .map(|ms| {
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                        .map_err(unavailable)
                })
                .transpose()
        };
        Ok(OperatorSessions {
            ended_at: time_of("valid_after")?,
            account_changed_at: time_of("account_changed_at")?,
        })
    }
}
