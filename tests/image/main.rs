//! The container image, checked offline (no Docker engine runs here, so no image is
//! built by the tests): every COPY source of the build context exists and is not
//! dockerignored, and with them the builder has every file Cargo's targets need; the
//! image installs exactly Cargo.toml's `[[bin]]`s, built `--release --locked`, runs
//! non-root, exposes both programs' ports and labels its version; and every nodepulse
//! image the manifests name is `ghcr.io/nodepulse/nodepulse:<Cargo version>`.

mod context;

use context::{cargo_targets, context, copy_parts, covers, instructions, runtime_stage, ROOT};
use std::collections::BTreeSet;
use std::path::Path;
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn copy_sources_are_in_the_context_and_cover_what_cargo_builds() {
    let context = context();
    let all = instructions();
    let mut copied = Vec::new();
    for (k, args) in all.iter().filter(|(k, _)| k == "COPY" || k == "ADD") {
        let (flags, sources, _) = copy_parts(args);
        if flags.iter().any(|f| f.starts_with("--from")) {
            continue;
        }
        assert_eq!(k, "COPY", "ADD fetches and unpacks: use COPY");
        for s in sources {
            assert!(
                context.iter().any(|f| covers(s, f)),
                "COPY {s}: not in the build context (missing, or .dockerignored)"
            );
            copied.push(s.to_string());
        }
    }
    // Cargo loads every declared target with the manifest, whichever it builds.
    let mut needed = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string()];
    let kinds = ["lib", "bin", "bench", "custom-build"];
    let targets = cargo_targets();
    needed.extend(
        (targets.iter())
            .filter(|(kind, _, _)| kinds.contains(&kind.as_str()))
            .map(|(_, _, path)| path.clone()),
    );
    for file in needed {
        assert!(context.contains(&file), "{file}: not in the build context");
        assert!(
            copied.iter().any(|s| covers(s, &file)),
            "{file}: never copied into the builder"
        );
    }
}

#[test]
fn the_image_holds_cargos_binaries_built_release_and_locked() {
    let bins: BTreeSet<String> = (cargo_targets().into_iter())
        .filter(|(kind, _, _)| kind == "bin")
        .map(|(_, name, _)| name)
        .collect();
    assert_eq!(bins.len(), 2, "{bins:?}");
    let all = instructions();
    let build = all
        .iter()
        .find(|(k, a)| k == "RUN" && a.contains("cargo build"))
        .map(|(_, a)| a.as_str())
        .expect("a RUN cargo build");
    for flag in ["--release", "--locked"] {
        assert!(build.contains(flag), "cargo build without {flag}");
    }
    for b in &bins {
        assert!(
            build.contains(&format!("--bin {b}")),
            "cargo build: no --bin {b}"
        );
    }
    let installed: BTreeSet<String> = (runtime_stage(&all).iter())
        .filter(|(k, _)| k == "COPY")
        .map(|(_, a)| copy_parts(a))
        .filter(|(_, _, dest)| dest.trim_end_matches('/') == "/usr/local/bin")
        .flat_map(|(_, sources, _)| sources)
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
        .collect();
    assert_eq!(installed, bins, "binaries in /usr/local/bin");
}

#[test]
fn the_runtime_stage_is_non_root_exposes_both_ports_and_is_labelled() {
    let all = instructions();
    let builder = all
        .iter()
        .find(|(k, _)| k == "FROM")
        .map(|(_, a)| a)
        .expect("FROM");
    assert!(builder.contains("bookworm"), "builder: {builder}");
    let stage = runtime_stage(&all);
    let value = |key: &str| -> Vec<&str> {
        (stage.iter())
            .filter(|(k, _)| k == key)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    let user = *value("USER").last().expect("a USER in the runtime stage");
    let uid = user.split(':').next().unwrap_or(user);
    assert!(
        uid != "0" && uid != "root" && !uid.is_empty(),
        "USER {user}"
    );
    let ports: BTreeSet<&str> = value("EXPOSE")
        .iter()
        .flat_map(|a| a.split_whitespace())
        .collect();
    assert_eq!(ports, BTreeSet::from(["9101", "9201"]));
    let labels = value("LABEL").join(" ");
    let license = format!(
        "org.opencontainers.image.licenses=\"{}\"",
        env!("CARGO_PKG_LICENSE")
    );
    for want in [
        format!("org.opencontainers.image.version=\"{VERSION}\""),
        license,
        "org.opencontainers.image.title=\"nodepulse\"".to_string(),
        "org.opencontainers.image.source=".to_string(),
    ] {
        assert!(labels.contains(&want), "no label {want}: {labels}");
    }
}

/// `image:` values (and kustomize `images:` entries' newName:newTag) in manifests/.
fn manifest_images() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(ROOT).join("manifests")];
    let image = regex::Regex::new(r#"(?m)^\s*-?\s*image:\s*"?([^"\s#]+)"#).expect("a regex");
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                let text = std::fs::read_to_string(&path).expect("a manifest");
                let file = path.display().to_string();
                out.extend(
                    image
                        .captures_iter(&text)
                        .map(|c| (file.clone(), c[1].to_string())),
                );
            }
        }
    }
    out
}

#[test]
fn manifests_name_the_image_of_this_version() {
    let want = format!("ghcr.io/nodepulse/nodepulse:{VERSION}");
    let ours: Vec<_> = (manifest_images().into_iter())
        .filter(|(_, i)| i.starts_with("ghcr.io/nodepulse/"))
        .collect();
    for (file, image) in &ours {
        assert_eq!(image, &want, "{file}");
    }
    assert!(
        ours.len() >= 2,
        "the agent and the aggregator name no image: {ours:?}"
    );
    let dockerfile =
        std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains(&format!("-t {want} ")),
        "the Dockerfile's build line"
    );
}
