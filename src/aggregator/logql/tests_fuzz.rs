//! Property tests: no query text makes the parser panic, every parsed query prints
//! back to itself, and no line makes a parsed pipeline panic. Queries are random text
//! and random sequences of LogQL fragments (which reach deep into the grammar far more
//! often than random text does).

use super::ast::{Expr, MetricExpr};
use super::pipeline::unwrap::Extractor;
use super::{parse, Pipeline, PipelineLimits};
use crate::aggregator::model::Labels;
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "app=\"api\"",
    "a=~\"x.+\"",
    ",",
    "|=",
    "!=",
    "|~",
    "!~",
    "\"err\"",
    "`b`",
    "or",
    "and",
    "| json",
    "| json a=\"b[0]\"",
    "| logfmt",
    "--strict",
    "| regexp \"(?P<n>\\\\d+)\"",
    "| pattern \"<a> <b>\"",
    "| unpack",
    "| line_format \"{{.a}}\"",
    "| label_format x=a",
    "| drop a",
    "| keep app",
    "| decolorize",
    "| a > 1",
    "| d > 1s",
    "| s < 2KB",
    "| __error__=\"\"",
    "|",
    "(",
    ")",
    "[5m]",
    "offset 1h",
    "| unwrap a",
    "| unwrap duration(a)",
    "rate",
    "count_over_time",
    "sum_over_time",
    "quantile_over_time",
    "0.5",
    "sum",
    "topk",
    "by",
    "without",
    "(a)",
    "+",
    "-",
    "*",
    "/",
    "^",
    "==",
    "> bool",
    "on (a)",
    "group_left",
    "vector(1)",
    "1",
    "label_replace",
    "\"$1\"",
];

const STAGES: &[&str] = &[
    "|= \"err\"",
    "!= `x`",
    "|~ \"e.r\" or \"x\"",
    "| json",
    "| json a=\"b[0]\", c=\"d.e\"",
    "| logfmt",
    "| logfmt --strict --keep-empty",
    "| regexp \"(?P<a>\\\\d+)\"",
    "| pattern \"<a> <_> <c>\"",
    "| unpack",
    "| line_format \"{{.a | ToUpper}}{{__line__}}\"",
    "| label_format x=a, y=\"{{.app}}\"",
    "| drop a",
    "| keep app, a",
    "| decolorize",
    "| a > 1",
    "| a > 1s or a < 2KB",
    "| __error__=\"\"",
    "| a=~\"[0-9]+\", c!=\"z\"",
];

/// Random fragment soup, or a well-formed selector with random stages, bare or in an
/// unwrapped range aggregation.
fn fragments() -> impl Strategy<Value = String> {
    let soup = proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..24)
        .prop_map(|v| v.join(" "));
    let stages =
        proptest::collection::vec(proptest::sample::select(STAGES), 0..7).prop_map(|v| v.join(" "));
    let log = stages.clone().prop_map(|s| format!("{{app=\"api\"}} {s}"));
    let unwrapped = stages.prop_map(|s| {
        format!("sum by (a) (avg_over_time({{app=\"api\"}} {s} | unwrap duration(a) [5m]))")
    });
    prop_oneof![soup, log, unwrapped]
}

fn lines() -> impl Strategy<Value = Vec<String>> {
    let line = prop_oneof![
        any::<String>(),
        "[a-z]{1,3}=(\"[^\"]{0,5}\"?|[0-9a-z.]{0,6}) ?[a-z]{0,2}=?[0-9]{0,3}",
        "\\{(\"[a-z]{1,2}\":(\"[a-z\\\\\"]{0,4}\"|[0-9.e-]{1,4}|\\{|\\[|null|tru)[,}\\]]?){0,4}",
    ];
    proptest::collection::vec(line, 1..6)
}

/// Runs every line through whatever `q` compiles to (log pipeline or unwrap).
fn exercise(q: &Expr, lines: &[String]) {
    let stream = Labels::from_pairs(&[("app", "api")]);
    let meta = vec![("a".to_string(), "1".to_string())];
    match q {
        Expr::Log(l) => {
            let mut p = Pipeline::new(&l.stages).expect("a parsed pipeline compiles");
            for line in lines {
                let _ = p.process(7, line, &stream, &meta);
            }
        }
        Expr::Metric(MetricExpr::Range(r)) => {
            let Some(u) = &r.unwrap else { return };
            let mut e = Extractor::new(&r.log, u, PipelineLimits::default()).expect("compiles");
            for line in lines {
                let _ = e.extract(7, line, &stream, &meta);
            }
        }
        Expr::Metric(_) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(q in any::<String>()) {
        let _ = parse(&q);
    }

    #[test]
    fn fragment_queries_never_panic(q in fragments(), lines in lines()) {
        if let Ok(expr) = parse(&q) {
            let printed = expr.to_string();
            let again = parse(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&expr), "printed: {}", printed);
            exercise(&expr, &lines);
        }
    }
}

#[test]
fn fragment_generator_reaches_valid_queries() {
    // Guards the property above against exercising only parse errors: a fixed-seed
    // sample must hold some queries that parse, and some with pipelines.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = fragments();
    let (mut ok, mut piped) = (0, 0);
    for _ in 0..2_000 {
        let q = strategy.new_tree(&mut runner).unwrap().current();
        if let Ok(expr) = parse(&q) {
            ok += 1;
            piped += usize::from(matches!(&expr, Expr::Log(l) if !l.stages.is_empty()));
        }
    }
    assert!(
        ok >= 20 && piped >= 5,
        "only {ok} valid, {piped} with stages"
    );
}
