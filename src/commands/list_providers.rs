//! `kubecredcache list-providers`: one line per registered provider (name, the command
//! it recognises, a description), then one per launcher (a program that runs one of
//! those commands with credentials it hands over), or JSON with each one's kind.

use serde::Serialize;

use super::Out;
use crate::provider;

#[derive(Serialize)]
struct Listed {
    name: &'static str,
    /// `provider` or `launcher`.
    kind: &'static str,
    command: &'static str,
    description: &'static str,
}

/// The line that opens the launchers in the text listing.
pub const LAUNCHERS_HEADING: &str = "launchers, in front of any command above:";

pub fn run(out: &mut Out, json: bool) -> i32 {
    let mut listed: Vec<Listed> = provider::registered()
        .into_iter()
        .map(|p| Listed {
            name: p.name(),
            kind: "provider",
            command: p.command(),
            description: p.description(),
        })
        .collect();
    listed.extend(provider::launchers().into_iter().map(|l| Listed {
        name: l.name(),
        kind: "launcher",
        command: l.command(),
        description: l.description(),
    }));
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&listed).expect("strings serialize")
        );
        return 0;
    }
    let name_width = listed.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let command_width = listed.iter().map(|p| p.command.len()).max().unwrap_or(0);
    let mut kind = "provider";
    for p in listed {
        if p.kind != kind {
            kind = p.kind;
            writeln!(out, "{LAUNCHERS_HEADING}");
        }
        writeln!(
            out,
            "{:name_width$}  {:command_width$}  {}",
            p.name, p.command, p.description
        );
    }
    0
}
