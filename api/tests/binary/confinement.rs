//! What a parser process of the real server holds: read from the kernel's view of the
//! processes `docintel serve` keeps waiting for documents (its spares), with secrets in
//! the server's environment.

use std::time::{Duration, Instant};

use docintel_backend::pipeline::privileges;
use docintel_testkit::proc_status as status;

use crate::served::{children_of, serve_env};

/// The pids of `pid`'s children whose first argument is the parser's.
fn parsers_of(pid: u32) -> Vec<u32> {
    children_of(pid)
        .into_iter()
        .filter(|child| {
            std::fs::read(format!("/proc/{child}/cmdline")).is_ok_and(|c| {
                c.split(|b| *b == 0).nth(1)
                    == Some(docintel_backend::pipeline::sandbox::ARG.as_bytes())
            })
        })
        .collect()
}

#[test]
fn parser_processes_hold_no_secret_no_capability_and_cannot_gain_one() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "wJalrXUtnFEMI-not-for-parsers";
    let server = serve_env(
        dir.path(),
        &[],
        &[
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("DOCINTEL_REGISTRY_PASSWORD", secret),
        ],
    );
    let pid = server.child.id();
    let server_status = status(pid);
    assert_ne!(
        server_status.get("CapEff").map(String::as_str),
        None,
        "the server's status is readable"
    );
    // The workers probe the parser at start and then keep spares waiting; a spare has
    // confined itself once no_new_privs is set (its last step).
    let started = Instant::now();
    let parsers = loop {
        let confined: Vec<u32> = parsers_of(pid)
            .into_iter()
            .filter(|p| status(*p).get("NoNewPrivs").map(String::as_str) == Some("1"))
            .collect();
        if !confined.is_empty() {
            break confined;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no confined parser process appeared; children: {:?}",
            parsers_of(pid)
                .into_iter()
                .map(|p| (p, status(p)))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let root = server_status
        .get("Uid")
        .is_some_and(|u| u.starts_with("0\t"));
    // Emptying the bounding set takes CAP_SETPCAP (bit 8), which a root server has.
    let setpcap = server_status
        .get("CapEff")
        .and_then(|c| u64::from_str_radix(c, 16).ok())
        .is_some_and(|c| c & (1 << 8) != 0);
    for parser in parsers {
        let environ = std::fs::read(format!("/proc/{parser}/environ")).unwrap();
        let vars: Vec<String> = environ
            .split(|b| *b == 0)
            .filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        let names: Vec<&str> = vars
            .iter()
            .map(|v| v.split_once('=').map_or(v.as_str(), |(n, _)| n))
            .collect();
        assert!(
            names.contains(&"MIMALLOC_ARENA_RESERVE"),
            "the parser's own setting is there: {names:?}"
        );
        for name in &names {
            assert!(
                privileges::allowed_names().any(|a| a == *name),
                "{name} reached the parser: {names:?}"
            );
        }
        assert!(!vars.iter().any(|v| v.contains(secret)), "{vars:?}");
        let s = status(parser);
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            if set == "CapBnd" && !setpcap {
                continue;
            }
            assert_eq!(
                s.get(set).map(String::as_str),
                Some("0000000000000000"),
                "{set} of parser {parser}"
            );
        }
        assert_eq!(s.get("NoNewPrivs").map(String::as_str), Some("1"));
        if root {
            // Root owns the data folder; the parser is not root.
            assert_eq!(
                s.get("Uid").map(String::as_str),
                Some("65534\t65534\t65534\t65534")
            );
            assert_eq!(s.get("Groups").map(String::as_str).unwrap_or_default(), "");
        }
        assert_eq!(
            std::fs::read_link(format!("/proc/{parser}/cwd")).unwrap(),
            std::path::Path::new("/"),
            "not the server's working directory"
        );
    }
}

#[tokio::test]
async fn readyz_tells_which_walls_the_parsers_hold() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::served::serve(dir.path(), &[]);
    // Ready once the workers have started, after their probe of the parser.
    let started = Instant::now();
    let ready = loop {
        let ready: serde_json::Value = reqwest::get(format!("{}/readyz", server.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["status"] == "ready" || started.elapsed() > Duration::from_secs(30) {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Landlock's ABI version, or an error where the kernel has none.
    // SAFETY: landlock_create_ruleset with a null attribute and the VERSION flag only
    // returns a number.
    let abi = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    let parser = &ready["parser"];
    assert_eq!(parser["isolation"], "process", "{ready}");
    assert_eq!(parser["landlock"], abi >= 1, "{ready}");
    // seccomp filters are in every kernel this runs on (and the parser's own
    // /proc status says so once walled off, in the backend's tests).
    assert_eq!(parser["seccomp"], true, "{ready}");
}
