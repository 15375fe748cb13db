//! What an EKS token says about its own life: it is `k8s-aws-v1.` and a base64url
//! presigned STS URL, which EKS accepts for 15 minutes after it was signed.

/// EKS accepts a token (a presigned STS URL) for 15 minutes after it was signed.
const SIGNED_URL_LIFETIME_SECONDS: i64 = 15 * 60;

/// For a `k8s-aws-v1.` token: its signing time (`X-Amz-Date` in the presigned URL it
/// encodes). `None` for anything that does not decode.
pub fn eks_token_signed_at(token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let url = crate::provider::decode_base64url(token.strip_prefix("k8s-aws-v1.")?)?;
    let url = String::from_utf8(url).ok()?;
    let query = url.split_once('?')?.1;
    let date = query.split('&').find_map(|kv| kv.strip_prefix("X-Amz-Date="))?;
    let signed = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").ok()?;
    Some(signed.and_utc())
}

/// For a `k8s-aws-v1.` token: its signing time plus 15 minutes.
pub fn eks_token_expiry_bound(token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    eks_token_signed_at(token).map(|signed| signed + chrono::Duration::seconds(SIGNED_URL_LIFETIME_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An EKS token as aws-iam-authenticator and the CLI build it.
    fn encode(url: &str) -> String {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url);
        format!("k8s-aws-v1.{encoded}")
    }

    const URL: &str = "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261128%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20261128T234151Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abc";

    #[test]
    fn the_signing_time_of_an_eks_token_bounds_its_life() {
        let bound = eks_token_expiry_bound(&encode(URL)).unwrap();
        assert_eq!(bound.to_rfc3339(), "2026-11-28T23:56:51+00:00");
        for cut in 1..4 {
            // Every length of the last base64 group decodes.
            let url = &URL[..URL.len() - cut];
            assert_eq!(eks_token_expiry_bound(&encode(url)), Some(bound), "{cut}");
        }
    }

    #[test]
    fn tokens_that_do_not_decode_have_no_bound() {
        let good = encode(URL);
        let truncated = &good[..good.len() / 2];
        for token in [
            truncated,
            "k8s-aws-v1.!!!not base64!!!",
            "k8s-aws-v1.",
            "not-an-eks-token",
            &encode("https://sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Expires=60"),
            &encode("https://sts.amazonaws.com/?X-Amz-Date=yesterday"),
            &encode("no query at all"),
        ] {
            assert_eq!(eks_token_expiry_bound(token), None, "{token}");
        }
    }

    #[test]
    fn a_signing_date_in_the_future_is_still_a_bound() {
        let token = encode(&URL.replace("20261128T234151Z", "20990101T000000Z"));
        assert_eq!(
            eks_token_expiry_bound(&token).unwrap().to_rfc3339(),
            "2099-01-01T00:15:00+00:00"
        );
    }
}
