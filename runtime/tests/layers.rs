//! The dependency rule of DESIGN.md, checked on the source: layers point one way,
//! `sys ← {buf, io} ← op ← reactor ← executor ← {net, fs}`, with `time` beside the executor
//! and `signal` on top of the reactor. A module may name (`crate::…`) only the layers below
//! it; in particular the reactor and the ops never name the executor.

use std::collections::BTreeSet;
use std::path::Path;

/// Each layer (a directory of `runtime/src`) and the layers it may name.
const RULES: &[(&str, &[&str])] = &[
    ("sys", &[]),
    ("buf", &["sys"]),
    ("io", &["sys", "buf"]),
    ("op", &["sys", "buf", "io"]),
    ("reactor", &["sys", "buf", "io", "op"]),
    (
        "executor",
        &["sys", "buf", "io", "op", "reactor", "time", "executor"],
    ),
    ("time", &["sys", "reactor", "executor", "time"]),
    ("signal", &["sys", "buf", "io", "op", "reactor", "signal"]),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layers a source file names through `crate::<layer>`.
fn named_layers(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `coreloop_runtime::` or `$crate::` are not in-crate paths of this file's layer.
        let before = &text[..i];
        if before.ends_with('$')
            || before.ends_with('_')
            || before.ends_with(|c: char| c.is_alphanumeric())
        {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn layers_name_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (layer, allowed) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no sources for layer {layer}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for name in named_layers(&text) {
                let is_layer = RULES.iter().any(|(l, _)| *l == name)
                    || ["testing", "executor", "reactor"].contains(&name.as_str());
                if is_layer && name != *layer && !allowed.contains(&name.as_str()) {
                    broken.push(format!(
                        "{} (layer {layer}) names crate::{name}",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "layers must point one way (DESIGN.md):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_check_sees_a_violation() {
    // The scanner itself: a reactor file naming the executor is found, `$crate::` is not.
    let names = named_layers("use crate::executor::core; $crate::testing::run(); x");
    assert!(names.contains("executor"));
    assert!(!names.contains("testing"));
}
