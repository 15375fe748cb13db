//! A kubeconfig's YAML as libyaml's events: each scalar with its style (plain, quoted,
//! block) and tag, which serde_norway resolves away before anyone can ask. How kubectl
//! reads a scalar depends on both (`on` plain is `true` to YAML 1.1, `!!str on` and
//! `'on'` are strings), so [`super::yaml_read`] builds the document from these.
//!
//! The one `unsafe` wrapper over unsafe-libyaml-norway, the libyaml port serde_norway
//! itself parses with: same code, no new crate.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::ptr::addr_of_mut;

use unsafe_libyaml_norway as unsafe_sys;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Written without quotes: YAML 1.1 decides what it is.
    Plain,
    /// Quoted, literal (`|`) or folded (`>`): a string.
    Written,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// With its `%YAML` directive's version, if any.
    DocumentStart(Option<(i32, i32)>),
    DocumentEnd,
    StreamEnd,
    Alias(String),
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        style: Style,
        /// Why go-yaml v2 (and so kubectl) cannot read this scalar where libyaml 0.2.5
        /// can: the escape `\/` (YAML 1.2 added it), or a `?` in a plain scalar in a
        /// flow collection (older libyaml, which go-yaml ports, ends the scalar there).
        go_yaml_refuses: Option<&'static str>,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
}

/// An event and the bytes of the text it stands for (an anchor and a tag included; a
/// block collection's end may lie at the next token, after comments).
#[derive(Debug)]
pub struct Spanned {
    pub event: Event,
    pub span: Range<usize>,
}

/// Every event of `text` after the stream's start, or `Err` when libyaml cannot parse it
/// (the caller asks serde_norway for the words to say why).
pub fn events(text: &str) -> Result<Vec<Event>, ()> {
    spanned_events(text).map(|all| all.into_iter().map(|s| s.event).collect())
}

/// [`events`], each with its place in `text`, for `setup`'s edits in place.
pub fn spanned_events(text: &str) -> Result<Vec<Spanned>, ()> {
    let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
    let parser = parser.as_mut_ptr();
    // SAFETY: `parser` is initialised before use and deleted once, below; the input
    // outlives every call that reads it; each event is converted before it is deleted.
    unsafe {
        if !unsafe_sys::yaml_parser_initialize(parser).ok {
            return Err(());
        }
        unsafe_sys::yaml_parser_set_encoding(parser, unsafe_sys::YAML_UTF8_ENCODING);
        unsafe_sys::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let mut out = Vec::new();
        // For each open collection, whether it is written in flow style (`[...]`, `{...}`).
        let mut flow: Vec<bool> = Vec::new();
        let result = loop {
            let mut event = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
            let event = event.as_mut_ptr();
            if !unsafe_sys::yaml_parser_parse(parser, event).ok {
                break Err(());
            }
            let e = &*event;
            match e.type_ {
                unsafe_sys::YAML_SEQUENCE_START_EVENT => {
                    flow.push(e.data.sequence_start.style == unsafe_sys::YAML_FLOW_SEQUENCE_STYLE)
                }
                unsafe_sys::YAML_MAPPING_START_EVENT => {
                    flow.push(e.data.mapping_start.style == unsafe_sys::YAML_FLOW_MAPPING_STYLE)
                }
                unsafe_sys::YAML_SEQUENCE_END_EVENT | unsafe_sys::YAML_MAPPING_END_EVENT => {
                    flow.pop();
                }
                _ => {}
            }
            // libyaml's marks count bytes of the UTF-8 input.
            let span = e.start_mark.index as usize..e.end_mark.index as usize;
            let converted = convert(e, text, flow.last() == Some(&true));
            unsafe_sys::yaml_event_delete(addr_of_mut!(*event));
            match converted {
                Some(Event::StreamEnd) => {
                    out.push(Spanned {
                        event: Event::StreamEnd,
                        span,
                    });
                    break Ok(out);
                }
                Some(event) => out.push(Spanned { event, span }),
                None => {}
            }
        };
        unsafe_sys::yaml_parser_delete(parser);
        result
    }
}

/// # Safety
/// `event` must be an event libyaml produced from `text` and has not deleted yet;
/// `in_flow` says whether it stands in a flow collection.
unsafe fn convert(event: &unsafe_sys::yaml_event_t, text: &str, in_flow: bool) -> Option<Event> {
    // SAFETY: the union field read is the one `type_` says is there.
    unsafe {
        Some(match event.type_ {
            unsafe_sys::YAML_DOCUMENT_START_EVENT => {
                let version = event.data.document_start.version_directive;
                Event::DocumentStart((!version.is_null()).then(|| ((*version).major, (*version).minor)))
            }
            unsafe_sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            unsafe_sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
            unsafe_sys::YAML_ALIAS_EVENT => Event::Alias(c_string(event.data.alias.anchor).unwrap_or_default()),
            unsafe_sys::YAML_SCALAR_EVENT => {
                let s = event.data.scalar;
                let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                let value = String::from_utf8_lossy(bytes).into_owned();
                let source = text
                    .as_bytes()
                    .get(event.start_mark.index as usize..event.end_mark.index as usize)
                    .unwrap_or_default();
                let go_yaml_refuses = if s.style == unsafe_sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE
                    && escapes_a_slash(source)
                {
                    Some("the escape \\/ in a double-quoted string, which kubectl's YAML 1.1 refuses")
                } else if s.style == unsafe_sys::YAML_PLAIN_SCALAR_STYLE && in_flow && value.contains('?') {
                    Some(
                        "a '?' inside a plain value in a [...] or {...} list, which ends the value for kubectl's YAML: quote it",
                    )
                } else {
                    None
                };
                Event::Scalar {
                    anchor: c_string(s.anchor),
                    tag: c_string(s.tag),
                    value,
                    style: if s.style == unsafe_sys::YAML_PLAIN_SCALAR_STYLE {
                        Style::Plain
                    } else {
                        Style::Written
                    },
                    go_yaml_refuses,
                }
            }
            unsafe_sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                anchor: c_string(event.data.sequence_start.anchor),
                tag: c_string(event.data.sequence_start.tag),
            },
            unsafe_sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            unsafe_sys::YAML_MAPPING_START_EVENT => Event::MappingStart {
                anchor: c_string(event.data.mapping_start.anchor),
                tag: c_string(event.data.mapping_start.tag),
            },
            unsafe_sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            _ => return None,
        })
    }
}

/// Whether `source` has `\/`: a `/` after an odd run of backslashes.
fn escapes_a_slash(source: &[u8]) -> bool {
    let mut backslashes = 0;
    for &b in source {
        if b == b'/' && backslashes % 2 == 1 {
            return true;
        }
        backslashes = if b == b'\\' { backslashes + 1 } else { 0 };
    }
    false
}

/// # Safety
/// `p` is null or a NUL-terminated string libyaml owns.
unsafe fn c_string(p: *const u8) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: as the caller promises.
    let c = unsafe { std::ffi::CStr::from_ptr(p.cast()) };
    Some(c.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalars(text: &str) -> Vec<(Option<String>, String, Style)> {
        events(text)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Event::Scalar { tag, value, style, .. } => Some((tag, value, style)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_scalar_says_how_it_was_written() {
        let got = scalars("a: on\nb: 'on'\nc: !!str on\nd: >-\n  on\ne: |\n  on\n");
        assert_eq!(got[1], (None, "on".into(), Style::Plain));
        assert_eq!(got[3], (None, "on".into(), Style::Written));
        assert_eq!(
            got[5],
            (Some("tag:yaml.org,2002:str".into()), "on".into(), Style::Plain)
        );
        assert_eq!(got[7], (None, "on".into(), Style::Written));
        assert_eq!(got[9], (None, "on\n".into(), Style::Written));
    }

    #[test]
    fn anchors_aliases_and_errors() {
        let all = events("a: &x [1]\nb: *x\n").unwrap();
        assert!(all.contains(&Event::SequenceStart {
            anchor: Some("x".into()),
            tag: None
        }));
        assert!(all.contains(&Event::Alias("x".into())));
        assert!(events("a: [1\n").is_err());
        let slash = |text| {
            events(text).unwrap().into_iter().any(|e| {
                matches!(
                    e,
                    Event::Scalar {
                        go_yaml_refuses: Some(_),
                        ..
                    }
                )
            })
        };
        assert!(slash("a: \"x\\/y\"\n"));
        assert!(
            slash("a: [c?d]\n") && slash("a: {b: c?d}\n"),
            "a ? in a flow plain scalar"
        );
        assert!(!slash("a: c?d\nb: ['c?d']\n"), "in block style, or quoted");
        assert!(
            !slash("a: \"x\\\\/y\"\nb: 'x\\/y'\nc: x\\/y\n"),
            "an escaped backslash, or not double-quoted"
        );
        assert!(
            events("%YAML 1.2\n---\na: 1\n")
                .unwrap()
                .contains(&Event::DocumentStart(Some((1, 2))))
        );
        assert!(events("a: 'x\n").is_err());
    }
}
