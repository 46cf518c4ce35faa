//! `nodepulse-aggregator`: for now it only reports its version.

fn main() {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version") | Some("-V") => println!("nodepulse-aggregator {}", nodepulse::VERSION),
        _ => {
            eprintln!(
                "nodepulse-aggregator {}: not implemented yet; only --version is supported",
                nodepulse::VERSION
            );
            std::process::exit(2);
        }
    }
}
