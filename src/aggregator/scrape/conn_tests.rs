use super::*;

#[test]
fn plain_http_urls_get_an_address_a_host_header_and_a_path() {
    let cases = [
        (
            "http://127.0.0.1:9100/metrics",
            Some(("127.0.0.1:9100", "127.0.0.1:9100", "/metrics")),
        ),
        (
            "http://node-1.example/probe?target=a%20b&x=1",
            Some((
                "node-1.example:80",
                "node-1.example",
                "/probe?target=a%20b&x=1",
            )),
        ),
        (
            "http://[::1]:8080/metrics",
            Some(("[::1]:8080", "[::1]:8080", "/metrics")),
        ),
        (
            "http://10.0.0.1:80",
            Some(("10.0.0.1:80", "10.0.0.1:80", "/")),
        ),
        ("https://10.0.0.1:443/metrics", None),
        ("http://user:pass@10.0.0.1:80/metrics", None),
        ("not a url", None),
    ];
    for (url, want) in cases {
        let got = plain_http(url);
        let want = want.map(|(a, h, p)| (a.to_owned(), h.to_owned(), p.to_owned()));
        assert_eq!(got, want, "{url}");
    }
}
