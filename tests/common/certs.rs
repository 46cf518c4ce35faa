//! Certificates for TLS tests, made by the `openssl` command (Debian's `openssl`) for
//! each run: a private CA and a server and a client certificate it signed; and the
//! bcrypt hash a Go server's web configuration (`basic_auth_users`) wants.

use std::path::Path;
use std::process::Command;

/// bcrypt (cost 4) of "am-secret", made once with Python's `bcrypt` package: what
/// Alertmanager's web config wants for a basic-auth user.
pub const PASSWORD_HASH: &str = "$2b$04$ADZ3fYJEOIt3KbHtbLJ1keHTMIGChO6tIcAI4YrX0AIxmHDc3HVoW";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`) and two certificates it signed, in `dir`: the server's for 127.0.0.1
/// (`server.pem`, `server.key`) and a client's (`client.pem`, `client.key`).
pub fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=nodepulse test CA",
    ];
    ca.extend_from_slice(&ec);
    ca.extend_from_slice(&["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    std::fs::write(dir.join("server.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    std::fs::write(dir.join("client.cnf"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, cn) in [("server", "/CN=127.0.0.1"), ("client", "/CN=nodepulse")] {
        sign(dir, name, cn, &ec);
    }
}

/// `<name>.key` and `<name>.pem`, signed by the CA with the extensions of `<name>.cnf`.
fn sign(dir: &Path, name: &str, cn: &str, ec: &[&str]) {
    let (key, csr, pem, cnf) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.cnf"),
    );
    let mut req = vec!["req", "-subj", cn];
    req.extend_from_slice(ec);
    req.extend_from_slice(&["-keyout", &key, "-out", &csr]);
    openssl(dir, &req);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            &cnf,
            "-out",
            &pem,
        ],
    );
}
