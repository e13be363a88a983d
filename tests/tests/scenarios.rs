//! The end-to-end scenario corpus. Each folder under `scenarios/` is a small estate with its
//! own rule packs (`packs/`), a `README.md` saying what it proves, and a `commands` file: one
//! `tally` command per line. Each command runs in-process against the scenario, with only the
//! scenario's packs and a fixed `--as-of` date, and its exit code, stdout and stderr are
//! compared with an insta snapshot whose numbers were checked by hand.

use std::path::Path;

/// The day every scenario is reconciled on, unless its command says otherwise.
const AS_OF: &str = "2026-11-01";

fn run_command(dir: &Path, line: &str) -> String {
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let Some((command, mut rest)) = words.split_first() else {
        return String::new();
    };
    let packs = dir.join("packs").display().to_string();
    let mut args = vec!["tally".to_string(), command.clone()];
    // `report NAME`: the report's name comes before the estate folder.
    if let Some((name, after)) = rest.split_first().filter(|_| command == "report") {
        args.push(name.clone());
        rest = after;
    }
    match command.as_str() {
        "check" | "test" | "lint" => args.push(packs),
        _ => {
            args.push(dir.display().to_string());
            args.extend(["--pack".to_string(), packs]);
            if !line.contains("--as-of") {
                args.extend(["--as-of".to_string(), AS_OF.to_string()]);
            }
        }
    }
    args.push("--no-std".to_string());
    args.extend(rest.iter().cloned());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = tally::run(&args, &mut out, &mut err);
    format!(
        "$ tally {line}\nexit code: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    )
}

#[test]
fn scenarios() {
    insta::glob!("..", "scenarios/*/commands", |path| {
        let Some(dir) = path.parent() else { return };
        // Relative paths keep the snapshots the same on every machine.
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rel = Path::new("scenarios").join(&name);
        let commands = std::fs::read_to_string(path).unwrap_or_default();
        let outputs: Vec<String> = commands
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| run_command(&rel, l))
            .collect();
        insta::assert_snapshot!(outputs.join("\n"));
    });
}
