//! `kubecredcache list-providers`: one line per registered provider (name, the command
//! it recognises, a description), or JSON.

use serde::Serialize;

use super::Out;
use crate::provider;

#[derive(Serialize)]
struct Listed {
    name: &'static str,
    command: &'static str,
    description: &'static str,
}

pub fn run(out: &mut Out, json: bool) -> i32 {
    let providers: Vec<Listed> = provider::registered()
        .into_iter()
        .map(|p| Listed {
            name: p.name(),
            command: p.command(),
            description: p.description(),
        })
        .collect();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&providers).expect("strings serialize")
        );
        return 0;
    }
    let name_width = providers.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let command_width = providers.iter().map(|p| p.command.len()).max().unwrap_or(0);
    for p in providers {
        writeln!(
            out,
            "{:name_width$}  {:command_width$}  {}",
            p.name, p.command, p.description
        );
    }
    0
}
