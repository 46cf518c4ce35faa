use super::*;
use crate::aggregator::model::stale_nan;

#[test]
fn values_as_go_formats_them() {
    let cases: &[(f64, &str)] = &[
        (1.0, "1"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (123456.789, "123456.789"),
        (0.30000000000000004, "0.30000000000000004"),
        (-0.0, "-0"),
        (f64::NAN, "NaN"),
        (stale_nan(), "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
    ];
    for (v, want) in cases {
        assert_eq!(format_value(*v), *want, "{v:?}");
    }
}

#[test]
fn timestamps_as_prometheus_writes_them() {
    for (t, want) in [
        (1_435_781_451_781, "1435781451.781"),
        (1_435_781_451_000, "1435781451"),
        (1_435_781_451_050, "1435781451.050"),
        (1_435_781_451_100, "1435781451.100"),
        (5, "0.005"),
        (-1500, "-1.500"),
        (0, "0"),
    ] {
        let mut s = String::new();
        write_timestamp(&mut s, t);
        assert_eq!(s, want);
    }
}

/// Literal answers of Prometheus 2.42's HTTP API (captured from /usr/bin/prometheus).
#[test]
fn shapes_match_prometheus() {
    let labels = Labels::from_pairs(&[("__name__", "up"), ("job", "prometheus")]);
    let vector = Value::Vector(vec![InstantSample {
        labels: labels.clone(),
        t: 1_435_781_451_781,
        v: 1.0,
    }]);
    assert_eq!(
        success(&query_data(&vector)),
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"prometheus"},"value":[1435781451.781,"1"]}]}}"#
    );
    let matrix = Value::Matrix(vec![Series {
        labels,
        samples: vec![
            Sample { t: 1000, v: 0.5 },
            Sample {
                t: 16000,
                v: f64::INFINITY,
            },
        ],
    }]);
    assert_eq!(
        query_data(&matrix),
        r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"prometheus"},"values":[[1,"0.5"],[16,"+Inf"]]}]}"#
    );
    assert_eq!(
        query_data(&Value::Scalar {
            t: 1_700_000_000_000,
            v: 2.0
        }),
        r#"{"resultType":"scalar","result":[1700000000,"2"]}"#
    );
    assert_eq!(
        query_data(&Value::String {
            t: 1000,
            s: "a\"b".into()
        }),
        r#"{"resultType":"string","result":[1,"a\"b"]}"#
    );
    assert_eq!(
        query_data(&Value::Vector(vec![])),
        r#"{"resultType":"vector","result":[]}"#
    );
    assert_eq!(
        error("bad_data", "invalid parameter \"query\": x"),
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": x"}"#
    );
    assert_eq!(
        success(&label_sets(&[])),
        r#"{"status":"success","data":[]}"#
    );
}
