//! The authenticators kubecredcache knows, one file each, listed below one line each.
//! Each registers itself with `inventory::submit!`, so nothing else names it: adding an
//! authenticator is adding its file and its line here. Plain modules, so that
//! `cargo fmt`, rustfmt and editors see every provider. Code that several providers
//! share lives in a folder of its own (`aws/`) and registers nothing.

/// The AWS rules that both AWS authenticators follow.
pub mod aws;

pub mod aws_eks;
pub mod aws_iam_authenticator;
pub mod doctl;
pub mod gke_gcloud_auth_plugin;
pub mod kubelogin_azure;
pub mod kubelogin_oidc;
pub mod oci_oke;
pub mod teleport_tsh;

// Launchers: programs that run another command with the credentials they hand it.
pub mod launch_aws_okta;
pub mod launch_aws_sso;
pub mod launch_aws_vault;
pub mod launch_env;
pub mod launch_op;
pub mod launch_saml2aws;
