//! `kubecredcache completion bash|zsh|fish|powershell`: a shell completion script for our
//! subcommands and their options, generated from the same clap definition that parses
//! them, as `kubectl completion SHELL` does. A wrapped command (`kubecredcache aws ...`)
//! gets no completion from it: its arguments belong to that command.

use clap::ValueEnum;
use clap_complete::Shell as Generator;

use super::Out;

/// The shells `kubectl completion` supports, so that one habit serves both.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

pub fn run(out: &mut Out, shell: Shell, mut cli: clap::Command) -> i32 {
    let generator = match shell {
        Shell::Bash => Generator::Bash,
        Shell::Zsh => Generator::Zsh,
        Shell::Fish => Generator::Fish,
        Shell::Powershell => Generator::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut cli, "kubecredcache", &mut script);
    write!(out, "{}", String::from_utf8_lossy(&script));
    0
}
