//! Bulk answers as Elasticsearch and OpenSearch write them, and the retry request built
//! from them.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn item(status: u16, error_type: Option<&str>) -> Value {
    let mut result = json!({"_index": "k8s-logs", "_id": "x", "status": status});
    if let Some(t) = error_type {
        result["error"] = json!({"type": t, "reason": format!("{t} happened")});
    }
    json!({"create": result})
}

fn answer(errors: bool, items: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({"took": 3, "errors": errors, "items": items})).unwrap()
}

fn retry(status: u16, t: &str) -> ItemOutcome {
    ItemOutcome::Retry {
        status,
        error_type: t.into(),
    }
}

fn rejected(status: u16, t: &str) -> ItemOutcome {
    ItemOutcome::Rejected {
        status,
        error_type: t.into(),
        reason: format!("{t} happened"),
    }
}

#[test]
fn all_created_is_all_accepted() {
    let body = answer(false, &[item(201, None), item(201, None), item(200, None)]);
    assert_eq!(interpret(200, &body, 3), Ok(BulkOutcome::AllAccepted));
    // `filter_path=errors` leaves only the flag.
    assert_eq!(
        interpret(200, br#"{"errors":false}"#, 3),
        Ok(BulkOutcome::AllAccepted)
    );
}

#[test]
fn mixed_statuses_under_http_200() {
    let body = answer(
        true,
        &[
            item(201, None),
            item(429, Some("es_rejected_execution_exception")),
            item(400, Some("mapper_parsing_exception")),
            item(503, Some("unavailable_shards_exception")),
            item(409, Some("version_conflict_engine_exception")),
            item(403, Some("cluster_block_exception")),
        ],
    );
    let want = BulkOutcome::Partial(vec![
        ItemOutcome::Accepted,
        retry(429, "es_rejected_execution_exception"),
        rejected(400, "mapper_parsing_exception"),
        retry(503, "unavailable_shards_exception"),
        ItemOutcome::Accepted,
        rejected(403, "cluster_block_exception"),
    ]);
    let got = interpret(200, &body, 6).unwrap();
    assert_eq!(got, want);
    assert_eq!(got.retryable(), vec![1, 3]);
    let tally = got.tally(6);
    assert_eq!((tally.accepted, tally.retry, tally.rejected), (2, 2, 2));
}

#[test]
fn a_failed_item_under_errors_false_is_still_not_acknowledged() {
    let body = answer(false, &[item(201, None), item(503, None)]);
    assert_eq!(
        interpret(200, &body, 2).unwrap().retryable(),
        vec![1],
        "the items decide, not the flag"
    );
}

#[test]
fn a_rejected_execution_under_a_rewritten_status_is_retried() {
    let body = answer(true, &[item(400, Some("es_rejected_execution_exception"))]);
    let got = interpret(200, &body, 1).unwrap();
    assert_eq!(got.retryable(), vec![0]);
}

#[test]
fn index_ops_are_read_like_create_ops() {
    let body =
        br#"{"took":1,"errors":true,"items":[{"index":{"status":201}},{"index":{"status":502}}]}"#;
    assert_eq!(interpret(200, body, 2).unwrap().retryable(), vec![1]);
}

#[test]
fn answers_that_cannot_be_tied_to_documents_retry_the_batch() {
    let two = answer(true, &[item(201, None), item(429, None)]);
    let cases: &[(&[u8], usize, &str)] = &[
        (&two, 3, "lists 2 items for 3"),
        (&two, 1, "lists 2 items for 1"),
        (b"", 1, "not the JSON"),
        (b"<html>502 Bad Gateway</html>", 1, "not the JSON"),
        (
            br#"{"took":1,"errors":true,"items":[{"create":{}}]}"#,
            1,
            "not the JSON",
        ),
        (br#"{"took":1,"errors":true}"#, 1, "without items"),
        (
            br#"{"items":[{"delete":{"status":200}}]}"#,
            1,
            "not the JSON",
        ),
    ];
    for &(body, sent, needle) in cases {
        let err = interpret(200, body, sent).unwrap_err();
        assert_eq!(err.action(), BatchAction::Retry, "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn http_status_decides_for_the_whole_batch() {
    let es_error = br#"{"error":{"root_cause":[],"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"},"status":400}"#;
    let cases: &[(u16, &[u8], BatchAction, &str)] = &[
        (429, b"{}", BatchAction::Retry, "overloaded"),
        (500, b"", BatchAction::Retry, "HTTP 500"),
        (
            502,
            b"<html>bad gateway</html>",
            BatchAction::Retry,
            "unknown",
        ),
        (503, b"", BatchAction::Retry, "HTTP 503"),
        (413, b"", BatchAction::Split, "413"),
        (
            400,
            es_error,
            BatchAction::Reject,
            "illegal_argument_exception",
        ),
        (401, b"Unauthorized", BatchAction::Reject, "Unauthorized"),
        (404, b"", BatchAction::Reject, "HTTP 404"),
    ];
    for &(status, body, action, needle) in cases {
        let err = interpret(status, body, 5).unwrap_err();
        assert_eq!(err.action(), action, "{status}");
        assert!(err.to_string().contains(needle), "{status}: {err}");
    }
}

#[test]
fn retry_request_holds_exactly_the_retryable_documents_in_order() {
    let req = BulkRequest::encode(&docs(5), &fixed());
    let body = answer(
        true,
        &[
            item(429, Some("es_rejected_execution_exception")),
            item(201, None),
            item(400, Some("mapper_parsing_exception")),
            item(503, None),
            item(500, None),
        ],
    );
    let outcome = interpret(200, &body, 5).unwrap();
    let again = req.retry_request(&outcome).unwrap();
    assert_eq!(again.positions(), &[0, 3, 4]);
    let messages: Vec<_> = lines(again.body())
        .chunks(2)
        .map(|p| p[1]["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages, ["line 0", "line 3", "line 4"]);

    // A second round maps back to the first batch's positions.
    let second = answer(true, &[item(201, None), item(201, None), item(429, None)]);
    let outcome = interpret(200, &second, 3).unwrap();
    assert_eq!(again.retry_request(&outcome).unwrap().positions(), &[4]);
    assert!(req.retry_request(&BulkOutcome::AllAccepted).is_none());
}

#[test]
fn split_halves_keep_every_document_once() {
    let req = BulkRequest::encode(&docs(5), &fixed());
    let (a, b) = req.split().unwrap();
    assert_eq!(a.positions(), &[0, 1]);
    assert_eq!(b.positions(), &[2, 3, 4]);
    assert_eq!([a.body(), b.body()].concat(), req.body());
    assert!(BulkRequest::encode(&docs(1), &fixed()).split().is_none());
}

#[test]
fn rejections_are_counted_by_reason_with_a_bound() {
    let body = answer(
        true,
        &[
            item(400, Some("mapper_parsing_exception")),
            item(400, Some("mapper_parsing_exception")),
            item(400, None),
            item(429, None),
        ],
    );
    let mut counts = RejectionCounts::default();
    counts.record(&interpret(200, &body, 4).unwrap());
    assert_eq!(counts.get("mapper_parsing_exception"), 2);
    assert_eq!(counts.get("unknown"), 1);
    for i in 0..100 {
        counts.add(&format!("reason_{i}"), 1);
    }
    assert_eq!(counts.iter().count(), rejections::MAX_REASONS + 1);
    assert_eq!(
        counts.get("other"),
        100 - (rejections::MAX_REASONS as u64 - 2)
    );
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(201),
        Just(400),
        Just(403),
        Just(404),
        Just(409),
        Just(429),
        Just(500),
        Just(503),
        100u16..600,
    ]
}

proptest! {
    #[test]
    fn outcomes_account_for_every_document(statuses in prop::collection::vec(status(), 1..40)) {
        let n = statuses.len();
        let req = BulkRequest::encode(&docs(n), &fixed());
        let items: Vec<Value> = statuses.iter().map(|&s| item(s, Some("some_exception"))).collect();
        let outcome = interpret(200, &answer(true, &items), n).unwrap();
        let t = outcome.tally(n);
        prop_assert_eq!(t.accepted + t.retry + t.rejected, n);
        let retried: Vec<usize> = statuses.iter().enumerate()
            .filter(|(_, &s)| s == 429 || s >= 500).map(|(i, _)| i).collect();
        prop_assert_eq!(t.retry, retried.len());
        match req.retry_request(&outcome) {
            None => prop_assert!(retried.is_empty()),
            Some(again) => {
                prop_assert_eq!(again.positions(), &retried[..]);
                let lines = lines(again.body());
                prop_assert_eq!(lines.len(), 2 * retried.len());
                for (pair, &i) in lines.chunks(2).zip(&retried) {
                    prop_assert_eq!(&pair[1]["message"], &json!(format!("line {i}")));
                }
            }
        }
    }
}
