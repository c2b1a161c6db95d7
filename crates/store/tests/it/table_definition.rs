//! `server create-table` and the CDK stack (`infra/`) make the same table:
//! both follow `crates/store/table.json`; this test holds the Rust side to
//! it (the stack's tests hold the template to it).

use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::types::{KeySchemaElement, KeyType, ProjectionType};
use serde_json::Value;

fn keys(schema: &[KeySchemaElement]) -> Vec<(String, &'static str)> {
    schema
        .iter()
        .map(|k| {
            let kind = match k.key_type() {
                KeyType::Hash => "partitionKey",
                KeyType::Range => "sortKey",
                other => panic!("unexpected key type {other:?}"),
            };
            (k.attribute_name().to_owned(), kind)
        })
        .collect()
}

fn expected_keys(definition: &Value) -> Vec<(String, &'static str)> {
    ["partitionKey", "sortKey"]
        .into_iter()
        .filter_map(|kind| {
            definition[kind]["name"]
                .as_str()
                .map(|name| (name.to_owned(), kind))
        })
        .collect()
}

#[test]
fn create_table_makes_the_table_in_table_json() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/table.json")).unwrap();
    let definition: Value = serde_json::from_str(&text).unwrap();
    // No call is made: the request is only built.
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build(),
    );
    let request = store::TableSetup::create_table_request(&client, "t").unwrap();
    let input = request.as_input();

    assert_eq!(
        keys(input.get_key_schema().as_deref().unwrap()),
        expected_keys(&definition)
    );
    // Every key attribute has the type the file gives it.
    let mut types = std::collections::BTreeMap::new();
    let mut collect = |key: &Value| {
        if let Some(name) = key["name"].as_str() {
            types.insert(name.to_owned(), key["type"].as_str().unwrap().to_owned());
        }
    };
    collect(&definition["partitionKey"]);
    collect(&definition["sortKey"]);
    for index in definition["globalSecondaryIndexes"].as_array().unwrap() {
        collect(&index["partitionKey"]);
        collect(&index["sortKey"]);
    }
    let declared: std::collections::BTreeMap<_, _> = input
        .get_attribute_definitions()
        .as_deref()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_owned(),
                a.attribute_type().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(declared, types);

    let indexes = input.get_global_secondary_indexes().as_deref().unwrap();
    let expected = definition["globalSecondaryIndexes"].as_array().unwrap();
    assert_eq!(indexes.len(), expected.len());
    for (index, wanted) in indexes.iter().zip(expected) {
        assert_eq!(index.index_name(), wanted["indexName"].as_str().unwrap());
        assert_eq!(keys(index.key_schema()), expected_keys(wanted));
        assert_eq!(
            index.projection().and_then(|p| p.projection_type()),
            Some(&ProjectionType::All)
        );
    }
    assert_eq!(
        definition["timeToLiveAttribute"].as_str(),
        Some(store::TTL_ATTRIBUTE)
    );
}
