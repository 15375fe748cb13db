//! The environment kubectl gives an exec plugin: its own, with the entry's `env:` list
//! appended (client-go), so an entry there overrides a variable of kubectl's, and of two
//! entries of one name the later wins (Go's `exec.Cmd` keeps the last). `doctor` reads
//! identities and settings from it as the plugin's run would.

use std::ffi::OsString;

use crate::provider::{self, Env};

pub struct ExecEnv<'a> {
    entries: &'a [(String, String)],
}

impl<'a> ExecEnv<'a> {
    pub fn new(entries: &'a [(String, String)]) -> ExecEnv<'a> {
        ExecEnv { entries }
    }

    fn entry(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Env for ExecEnv<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.entry(name)
            .map(String::from)
            .or_else(|| provider::ProcessEnv.var(name))
    }
    fn var_os(&self, name: &str) -> Option<OsString> {
        self.entry(name).map(OsString::from).or_else(|| std::env::var_os(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entrys_variables_override_the_process_and_the_last_of_a_name_wins() {
        let entries = [
            ("PATH".to_string(), "/first".to_string()),
            ("PATH".to_string(), "/second".to_string()),
        ];
        let env = ExecEnv::new(&entries);
        assert_eq!(env.var("PATH").as_deref(), Some("/second"));
        assert_eq!(env.var_os("PATH"), Some(OsString::from("/second")));
        assert_eq!(env.var("HOME"), std::env::var("HOME").ok(), "the rest is the process's");
    }
}
