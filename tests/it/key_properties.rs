//! Properties of the cache key, for both AWS providers: any order and any spelling of the
//! same arguments (`--f v`, `--f=v`, short forms, values from the environment) give the
//! same key; any difference in an identity field gives a different key. A spelling is
//! one the program itself reads as that value: argparse (the AWS CLI) takes a value
//! that starts with `-` only as `--f=-v`, and pflag reads `-i=` as `=`, so an empty
//! short value is given apart (`-i ""`).

use std::collections::HashMap;

use kubecredcache::cache::CacheKey;
use kubecredcache::provider::Provider;
use kubecredcache::providers::aws_eks::AwsEks;
use kubecredcache::providers::aws_iam_authenticator::AwsIamAuthenticator;
use proptest::prelude::*;

/// An identity as a user would give it.
#[derive(Debug, Clone, PartialEq)]
struct Id {
    cluster: String,
    region: Option<String>,
    profile: Option<String>,
    role: Option<String>,
    access_key: Option<String>,
}

fn value() -> impl Strategy<Value = String> {
    // Anything an argument can hold: spaces, '=', leading dashes, unicode. Not NUL.
    "[a-zA-Z0-9 =/:._*?é-]{0,12}"
}

/// A region or profile: an empty one is no region or profile to the AWS CLI and SDKs.
fn setting() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(value()).prop_map(|v| v.filter(|v| !v.is_empty()))
}

fn id() -> impl Strategy<Value = Id> {
    (
        value(),
        setting(),
        setting(),
        proptest::option::of(value()),
        proptest::option::of("[A-Z0-9]{4,8}"),
    )
        .prop_map(|(cluster, region, profile, role, access_key)| Id {
            cluster,
            region,
            profile,
            role,
            access_key,
        })
}

/// How one invocation spells the identity.
#[derive(Debug, Clone)]
struct Spelling {
    equals: Vec<bool>,
    order: Vec<usize>,
    region_from_env: bool,
    short: bool,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (
        proptest::collection::vec(any::<bool>(), 4),
        Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(equals, order, region_from_env, short)| Spelling {
            equals,
            order,
            region_from_env,
            short,
        })
}

fn flag(name: &str, value: &str, equals: bool) -> Vec<String> {
    let short = !name.starts_with("--");
    if equals && !(short && value.is_empty()) {
        vec![format!("{name}={value}")]
    } else {
        vec![name.to_string(), value.to_string()]
    }
}

/// argparse's spelling: a value that looks like a flag only after `=`.
fn argparse_flag(name: &str, value: &str, equals: bool) -> Vec<String> {
    flag(name, value, equals || value.starts_with('-'))
}

/// Builds the arguments and environment of `aws ... eks get-token` for `id`, spelled per `sp`.
fn aws_eks(id: &Id, sp: &Spelling) -> (Vec<String>, HashMap<String, String>) {
    let flag = argparse_flag;
    let mut env = HashMap::new();
    let mut items: Vec<Vec<String>> = vec![vec!["eks".into()], vec!["get-token".into()]];
    let mut flags = vec![flag("--cluster-name", &id.cluster, sp.equals[0])];
    if let Some(r) = &id.region {
        if sp.region_from_env {
            env.insert("AWS_REGION".into(), r.clone());
        } else {
            flags.push(flag("--region", r, sp.equals[1]));
        }
    }
    if let Some(p) = &id.profile {
        flags.push(flag("--profile", p, sp.equals[2]));
    }
    if let Some(r) = &id.role {
        flags.push(flag("--role-arn", r, sp.equals[3]));
    }
    if let Some(k) = &id.access_key {
        env.insert("AWS_ACCESS_KEY_ID".into(), k.clone());
    }
    // Positionals keep their order (eks before get-token); flags go anywhere.
    items.extend(flags);
    let mut order: Vec<usize> = sp.order.iter().copied().filter(|i| *i < items.len()).collect();
    let (pos_a, pos_b) = (
        order.iter().position(|i| *i == 0).unwrap(),
        order.iter().position(|i| *i == 1).unwrap(),
    );
    if pos_a > pos_b {
        order.swap(pos_a, pos_b);
    }
    (order.iter().flat_map(|i| items[*i].clone()).collect(), env)
}

/// Builds `aws-iam-authenticator token ...` for `id`, spelled per `sp`.
fn iam(id: &Id, sp: &Spelling) -> (Vec<String>, HashMap<String, String>) {
    let mut env = HashMap::new();
    let (cluster_flag, role_flag) = if sp.short {
        ("-i", "-r")
    } else {
        ("--cluster-id", "--role")
    };
    let mut items: Vec<Vec<String>> = vec![vec!["token".into()], flag(cluster_flag, &id.cluster, sp.equals[0])];
    if let Some(r) = &id.region {
        if sp.region_from_env {
            env.insert("AWS_DEFAULT_REGION".into(), r.clone());
        } else {
            items.push(flag("--region", r, sp.equals[1]));
        }
    }
    if let Some(p) = &id.profile {
        env.insert("AWS_PROFILE".into(), p.clone());
    }
    if let Some(r) = &id.role {
        items.push(flag(role_flag, r, sp.equals[3]));
    }
    if let Some(k) = &id.access_key {
        env.insert("AWS_ACCESS_KEY_ID".into(), k.clone());
    }
    let order: Vec<usize> = sp.order.iter().copied().filter(|i| *i < items.len()).collect();
    (order.iter().flat_map(|i| items[*i].clone()).collect(), env)
}

type Build = fn(&Id, &Spelling) -> (Vec<String>, HashMap<String, String>);

fn key(provider: &dyn Provider, program: &str, build: Build, id: &Id, sp: &Spelling) -> CacheKey {
    let (args, env) = build(id, sp);
    let args = kubecredcache::provider::parse(&args, provider.inputs());
    assert!(provider.recognises(program, &args), "{args:?} not recognised");
    CacheKey::new(
        provider.name(),
        &provider
            .identity(&args, &env)
            .unwrap_or_else(|e| panic!("{args:?}: {e}")),
    )
}

const PROVIDERS: [(&dyn Provider, &str, Build); 2] = [
    (&AwsEks, "aws", aws_eks),
    (&AwsIamAuthenticator, "aws-iam-authenticator", iam),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_spelling_of_one_identity_gives_one_key(id in id(), a in spelling(), b in spelling()) {
        for (provider, program, build) in PROVIDERS {
            prop_assert_eq!(key(provider, program, build, &id, &a), key(provider, program, build, &id, &b));
        }
    }

    #[test]
    fn different_identities_give_different_keys(x in id(), y in id(), a in spelling(), b in spelling()) {
        prop_assume!(x != y);
        for (provider, program, build) in PROVIDERS {
            prop_assert_ne!(key(provider, program, build, &x, &a), key(provider, program, build, &y, &b));
        }
    }
}
