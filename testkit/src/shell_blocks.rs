//! The shell blocks of README.md and docs/*.md (fenced `sh`, `bash` or `console`), for
//! the tests that keep them honest: each parses with `bash -n`; a dry run under bash with
//! every external command replaced by a recorder yields each command line exactly as the
//! shell would run it (quotes, `\` continuations, `$(…)` and variables expanded by bash
//! itself), so the commands' owners can check the names and flags against their CLIs;
//! blocks marked `<!-- doc-test: server -->` on the line before their fence run for real.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The marker, on the line right before a fence, of a block that runs against a server.
pub const SERVER_MARKER: &str = "<!-- doc-test: server -->";

#[derive(Debug, Clone)]
pub struct Block {
    /// Relative to the repository root, e.g. `docs/api.md`.
    pub file: String,
    /// The fence's line, from 1.
    pub line: usize,
    pub lang: String,
    /// Preceded by [`SERVER_MARKER`].
    pub runs_against_server: bool,
    /// The commands (for `console`: the lines after a `$ ` prompt).
    pub text: String,
}

/// One external command a block runs, as the shell would run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Where it comes from (`file:line`).
    pub block: String,
    pub argv: Vec<String>,
}

impl Invocation {
    /// The docintel program and its arguments, for a direct call (`docintel serve …`,
    /// `target/release/docintel-bench …`) or `cargo run [-q] [--release] -p <package>
    /// [--bin <bin>] -- <args>` of one of the workspace's binaries.
    pub fn program(&self) -> Option<(&str, &[String])> {
        let name = self.argv.first()?.as_str();
        if name != "cargo" {
            return name
                .starts_with("docintel")
                .then(|| (name, &self.argv[1..]));
        }
        if self.argv.get(1).map(String::as_str) != Some("run") {
            return None;
        }
        let split = self.argv.iter().position(|a| a == "--");
        let (options, args) = match split {
            Some(i) => (&self.argv[2..i], &self.argv[i + 1..]),
            None => (&self.argv[2..], &self.argv[self.argv.len()..]),
        };
        if option(options, "--example").is_some() {
            return None;
        }
        let program = match option(options, "--bin").or_else(|| option(options, "-p")) {
            Some("docintel-api") => "docintel",
            Some(other) => other,
            None => return None,
        };
        Some((program, args))
    }
}

/// The value after `name` (or in `name=value`) among cargo's options.
pub fn option<'a>(options: &'a [String], name: &str) -> Option<&'a str> {
    let long = match name {
        "-p" => Some("--package"),
        _ => None,
    };
    options.iter().enumerate().find_map(|(i, a)| {
        let a = a.as_str();
        if a == name || Some(a) == long {
            options.get(i + 1).map(String::as_str)
        } else {
            a.strip_prefix(name)
                .or_else(|| long.and_then(|l| a.strip_prefix(l)))
                .and_then(|rest| rest.strip_prefix('='))
        }
    })
}

impl Block {
    pub fn name(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// `bash -n`'s complaint, if the block does not parse.
    pub fn syntax_error(&self) -> Option<String> {
        let out = Command::new("bash")
            .args(["-n", "-c", &self.text])
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Every external command the block runs (a background job's when it runs), from a
    /// dry run in an empty folder where no external command exists: bash hands each one,
    /// expanded, to a recorder that succeeds and prints `stub-output` (so `KEY=$(…)` gets
    /// a value). `target/<profile>/` is dropped from command names so built binaries are
    /// recorded under their names.
    pub fn invocations(&self) -> Vec<Invocation> {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join(".invocations");
        let recorder = r#"command_not_found_handle() { printf '%s\0' "$@" $'\x1e' >> "$__DOC_TEST_LOG"; echo stub-output; }"#;
        self.run_in(dir.path(), &log, recorder, &[]);
        read_log(&log)
            .into_iter()
            .map(|argv| Invocation {
                block: self.name(),
                argv,
            })
            .collect()
    }

    /// Runs the block with bash in `dir` with a `PATH` that holds nothing, after
    /// `prelude` (functions that stand for the commands it may run). `env`: more
    /// variables. The output of the run.
    pub fn run_in(
        &self,
        dir: &Path,
        log: &Path,
        prelude: &str,
        env: &[(&str, &str)],
    ) -> std::process::Output {
        let text = self
            .text
            .replace("target/release/", "")
            .replace("target/debug/", "");
        // The block's background jobs record too: wait for them.
        let script = format!("{prelude}\n{text}\nwait\n");
        let empty = dir.join(".no-commands");
        std::fs::create_dir_all(&empty).expect("mkdir");
        Command::new(find_program("bash"))
            .args(["-c", &script])
            .current_dir(dir)
            .env_clear()
            .env("PATH", &empty)
            .env("HOME", dir)
            .env("__DOC_TEST_LOG", log)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("run bash")
    }
}

/// Checks every invocation of `program` in the documents' blocks against its binary
/// `bin`: the arguments with `--help` appended parse (clap prints the help only once
/// every argument before it is a known subcommand or flag with a valid value). The
/// number of invocations checked, and one line per invocation that does not parse.
pub fn check_invocations(root: &Path, program: &str, bin: &Path) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut failures = Vec::new();
    for invocation in blocks(root).iter().flat_map(Block::invocations) {
        let Some((name, args)) = invocation.program() else {
            continue;
        };
        if name != program {
            continue;
        }
        checked += 1;
        let out = Command::new(bin)
            .args(args)
            .arg("--help")
            .current_dir(root)
            .stdin(Stdio::null())
            .output()
            .expect("run the binary");
        if !out.status.success() {
            failures.push(format!(
                "{}: {program} {}: {}",
                invocation.block,
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    (checked, failures)
}

/// `name` on this process's `PATH` (the blocks run with a `PATH` of their own).
pub fn find_program(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{name} is not on PATH"))
}

/// The argument vectors a recorder wrote to `log`.
pub fn read_log(log: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(log).unwrap_or_default();
    if bytes.is_empty() {
        return Vec::new();
    }
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(&bytes);
    bytes
        .split(|b| *b == 0)
        .collect::<Vec<_>>()
        .split(|part| *part == b"\x1e")
        .filter(|argv| !argv.is_empty())
        .map(|argv| {
            argv.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .collect()
}

/// The Markdown files whose shell blocks are checked: README.md and docs/*.md.
pub fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Every shell block of [`documents`].
pub fn blocks(root: &Path) -> Vec<Block> {
    documents(root)
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).expect("read a document");
            let file = path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string();
            parse(&file, &text)
        })
        .collect()
}

/// The shell blocks of one Markdown text.
pub fn parse(file: &str, markdown: &str) -> Vec<Block> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let lang = info.split_whitespace().next().unwrap_or("").to_owned();
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .unwrap_or(lines.len());
        if ["sh", "bash", "console"].contains(&lang.as_str()) {
            let body = &lines[i + 1..end];
            let text = if lang == "console" {
                body.iter()
                    .filter_map(|l| l.strip_prefix("$ "))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                body.join("\n")
            };
            blocks.push(Block {
                file: file.to_owned(),
                line: i + 1,
                lang,
                runs_against_server: i > 0 && lines[i - 1].trim() == SERVER_MARKER,
                text,
            });
        }
        i = end + 1;
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_markers_and_prompts() {
        let md = "text\n```sh\necho a\n```\n<!-- doc-test: server -->\n```bash\ncurl x\n```\n```json\n{}\n```\n```console\n$ docintel serve\nlistening\n```\n";
        let blocks = parse("x.md", md);
        let summary: Vec<(usize, &str, bool, &str)> = blocks
            .iter()
            .map(|b| {
                (
                    b.line,
                    b.lang.as_str(),
                    b.runs_against_server,
                    b.text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (2, "sh", false, "echo a"),
                (6, "bash", true, "curl x"),
                (12, "console", false, "docintel serve"),
            ]
        );
    }

    #[test]
    fn the_dry_run_records_what_bash_would_run() {
        let block = Block {
            file: "x.md".into(),
            line: 1,
            lang: "sh".into(),
            runs_against_server: false,
            text: concat!(
                "SHARED=\"--database-url $DB --kafka-brokers k:9092\"\n",
                "KEY=$(cargo run -q -p docintel-api -- keys create --tenant acme)\n",
                "docintel serve --listen 127.0.0.1:8081 $SHARED &   # a comment\n",
                "target/release/docintel-bench soak \\\n  --secs 600\n",
                "curl -H \"Authorization: Bearer $KEY\" 'http://h/a b'\n",
            )
            .into(),
        };
        // Sorted: a background job records when it runs.
        let mut argvs: Vec<Vec<String>> = block.invocations().into_iter().map(|i| i.argv).collect();
        argvs.sort();
        let mut expected: Vec<Vec<&str>> = vec![
            vec![
                "cargo",
                "run",
                "-q",
                "-p",
                "docintel-api",
                "--",
                "keys",
                "create",
                "--tenant",
                "acme",
            ],
            vec![
                "docintel",
                "serve",
                "--listen",
                "127.0.0.1:8081",
                "--database-url",
                "--kafka-brokers",
                "k:9092",
            ],
            vec!["docintel-bench", "soak", "--secs", "600"],
            vec![
                "curl",
                "-H",
                "Authorization: Bearer stub-output",
                "http://h/a b",
            ],
        ];
        expected.sort();
        assert_eq!(argvs, expected);
        let mut programs: Vec<Option<String>> = block
            .invocations()
            .iter()
            .map(|i| i.program().map(|(p, _)| p.to_owned()))
            .collect();
        programs.sort();
        assert_eq!(
            programs,
            [
                None,
                Some("docintel".to_owned()),
                Some("docintel".to_owned()),
                Some("docintel-bench".to_owned()),
            ]
        );
    }

    #[test]
    fn a_block_that_does_not_parse_is_reported() {
        let block = parse("x.md", "```sh\nif true; then echo\n```\n").remove(0);
        assert!(
            block
                .syntax_error()
                .is_some_and(|e| e.contains("syntax error"))
        );
        let fine = parse("x.md", "```sh\necho \"a\" | cat\n```\n").remove(0);
        assert_eq!(fine.syntax_error(), None);
    }
}
