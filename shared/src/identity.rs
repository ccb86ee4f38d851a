//! The human (or workload) behind a call, resolved through the identity chain the record
//! carries: an assumed role to its issuer and session, an IAM Identity Center role to the
//! user, `sourceIdentity` when set, federation to the federated user, a cross-account call to
//! the calling account; IBM users, service IDs and trusted profiles from `initiator`.
//!
//! Alerts say "alice@example.com via AWSReservedSSO_Admin in prod (111122223333)"; rules read
//! the same resolution as the derived fact `identity` and exceptions match on it.

use serde_json::Value;
use std::borrow::Cow;

/// What kind of principal made the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The AWS account's root user.
    Root,
    IamUser,
    /// A role session (`AssumeRole`), not one of the kinds below.
    AssumedRole,
    /// A role session of an IAM Identity Center permission set (`AWSReservedSSO_*`).
    IdentityCenter,
    /// SAML federation: `AssumeRoleWithSAML` itself (`SAMLUser`).
    Saml,
    /// OIDC federation: `AssumeRoleWithWebIdentity` itself, or a session it opened.
    WebIdentity,
    /// `GetFederationToken` credentials.
    FederatedUser,
    /// An AWS service acting in its own name.
    AwsService,
    /// A principal of another account, known only by its account (`AWSAccount`).
    AwsAccount,
    /// IBM Cloud: a user (IBMid).
    IbmUser,
    /// IBM Cloud: a service ID (API key).
    IbmServiceId,
    /// IBM Cloud: a trusted profile, with who or what assumed it.
    IbmTrustedProfile,
    /// IBM Cloud: a service acting on its own (service-to-service).
    IbmService,
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Root => "root",
            Kind::IamUser => "iam-user",
            Kind::AssumedRole => "assumed-role",
            Kind::IdentityCenter => "identity-center",
            Kind::Saml => "saml",
            Kind::WebIdentity => "web-identity",
            Kind::FederatedUser => "federated-user",
            Kind::AwsService => "aws-service",
            Kind::AwsAccount => "aws-account",
            Kind::IbmUser => "ibm-user",
            Kind::IbmServiceId => "ibm-service-id",
            Kind::IbmTrustedProfile => "ibm-trusted-profile",
            Kind::IbmService => "ibm-service",
            Kind::Unknown => "unknown",
        }
    }
}

/// Who made a call, as far as the record tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: Kind,
    /// The person or workload: `alice@example.com`, `deploy-bot`, `root`, a service ID's name.
    pub who: String,
    /// What they acted through, as people name it: a role (an Identity Center role without
    /// its random suffix), a trusted profile, a federation token's issuer.
    pub via: Option<String>,
    /// The role's own name, in full (`AWSReservedSSO_Admin_0123456789abcdef`).
    pub role: Option<String>,
    /// The role session's name.
    pub session: Option<String>,
    /// `sourceIdentity`, set when the role was assumed and kept along a chain of roles.
    pub source_identity: Option<String>,
    /// The principal's own account.
    pub account: Option<String>,
    /// The principal's account is not the account the event happened in.
    pub cross_account: bool,
    /// The AWS service that made the call for the principal (`cloudformation.amazonaws.com`).
    pub invoked_by: Option<String>,
}

/// Top-level members [`Identity::resolve`] reads.
pub const READS: &[&str] = &[
    "userIdentity",
    "recipientAccountId",
    "requestParameters",
    "initiator",
];

impl Identity {
    /// The identity of a record, given its top-level members by name: a CloudTrail record
    /// (`userIdentity`) or a CADF one (`initiator`). `None` when it has neither.
    pub fn resolve<'v>(member: impl Fn(&str) -> Option<Cow<'v, Value>>) -> Option<Self> {
        if let Some(ui) = member("userIdentity") {
            let recipient = member("recipientAccountId");
            let request = member("requestParameters");
            let recipient = recipient.as_deref().and_then(Value::as_str);
            return Some(cloudtrail(&ui, recipient, request.as_deref()));
        }
        member("initiator").map(|i| cadf(&i))
    }

    /// As one line: `alice@example.com via AWSReservedSSO_Admin`, `bob via deploy (session
    /// ci-42) from account 444455556666`; `name` names the calling account.
    pub fn describe(&self, name: impl Fn(&str) -> Option<String>) -> String {
        if let (Kind::AwsAccount, Some(a)) = (self.kind, &self.account) {
            return match name(a) {
                Some(n) => format!("a principal of {n} ({a})"),
                None => self.who.clone(),
            };
        }
        let mut s = self.who.clone();
        if let Some(via) = &self.via {
            s.push_str(" via ");
            s.push_str(via);
        }
        // The session says more only when it is not the who already.
        if let Some(session) = &self.session {
            if *session != self.who && self.kind == Kind::AssumedRole {
                s.push_str(&format!(" (session {session})"));
            }
        }
        if let Some(svc) = &self.invoked_by {
            if *svc != self.who {
                s.push_str(&format!(" through {svc}"));
            }
        }
        if self.cross_account {
            if let Some(a) = &self.account {
                match name(a) {
                    Some(n) => s.push_str(&format!(" from {n} ({a})")),
                    None => s.push_str(&format!(" from account {a}")),
                }
            }
        }
        s
    }

    /// The identity as a JSON object (the `identity` fact of rules and of findings).
    pub fn to_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("kind".into(), self.kind.as_str().into());
        m.insert("who".into(), self.who.as_str().into());
        for (key, v) in [
            ("via", &self.via),
            ("role", &self.role),
            ("session", &self.session),
            ("source_identity", &self.source_identity),
            ("account", &self.account),
            ("invoked_by", &self.invoked_by),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), v.as_str().into());
            }
        }
        m.insert("cross_account".into(), self.cross_account.into());
        Value::Object(m)
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn text_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let (last, head) = path.split_last()?;
    let mut at = v;
    for k in head {
        at = at.get(*k)?;
    }
    text(at, last)
}

/// Identity Center names its roles `AWSReservedSSO_<permission set>_<16 hex digits>`; people
/// know the permission set.
fn permission_set_role(role: &str) -> Option<String> {
    let rest = role.strip_prefix("AWSReservedSSO_")?;
    Some(match rest.rsplit_once('_') {
        Some((set, suffix))
            if suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            format!("AWSReservedSSO_{set}")
        }
        _ => role.to_string(),
    })
}

/// `arn:aws:sts::1:assumed-role/Role/session` -> (Role, session); the same shape for
/// `federated-user/name` (no session).
fn assumed_role_parts(arn: &str) -> Option<(&str, Option<&str>)> {
    let (_, rest) = arn.split_once(":assumed-role/")?;
    Some(match rest.rsplit_once('/') {
        Some((role, session)) => (role.rsplit('/').next().unwrap_or(role), Some(session)),
        None => (rest, None),
    })
}

/// The last part of a role ARN (`arn:aws:iam::1:role/path/Name` -> Name).
fn role_name(arn: &str) -> Option<&str> {
    arn.split_once(":role/")
        .map(|(_, r)| r.rsplit('/').next().unwrap_or(r))
}

fn cloudtrail(ui: &Value, recipient: Option<&str>, request: Option<&Value>) -> Identity {
    let kind_text = text(ui, "type");
    let account = text(ui, "accountId").map(str::to_string);
    let arn = text(ui, "arn");
    let issuer = ui.pointer("/sessionContext/sessionIssuer");
    let source_identity = text_at(ui, &["sessionContext", "sourceIdentity"])
        .or_else(|| text(ui, "sourceIdentity"))
        .map(str::to_string);
    let invoked_by = text(ui, "invokedBy").map(str::to_string);
    let on_behalf_of = text_at(ui, &["onBehalfOf", "userId"]);
    let mut id = Identity {
        kind: Kind::Unknown,
        who: String::new(),
        via: None,
        role: None,
        session: None,
        source_identity,
        cross_account: false,
        account,
        invoked_by,
    };
    match kind_text {
        Some("Root") => {
            id.kind = Kind::Root;
            id.who = "root".into();
        }
        Some("IAMUser") => {
            id.kind = Kind::IamUser;
            id.who = text(ui, "userName")
                .or_else(|| arn.and_then(|a| a.rsplit('/').next()))
                .or_else(|| text(ui, "principalId"))
                .unwrap_or("?")
                .to_string();
        }
        Some("AssumedRole") => {
            let from_arn = arn.and_then(assumed_role_parts);
            let role = issuer
                .and_then(|i| text(i, "userName"))
                .or(from_arn.map(|(r, _)| r));
            let session = from_arn
                .and_then(|(_, s)| s)
                .or_else(|| {
                    // principalId is `AROA...:session`.
                    text(ui, "principalId").and_then(|p| p.split_once(':').map(|(_, s)| s))
                })
                .map(str::to_string);
            let web = ui.pointer("/sessionContext/webIdFederationData/federatedProvider");
            id.role = role.map(str::to_string);
            id.kind = match role.and_then(permission_set_role) {
                Some(set) => {
                    id.via = Some(set);
                    Kind::IdentityCenter
                }
                None => {
                    id.via = id.role.clone();
                    if web.is_some() {
                        Kind::WebIdentity
                    } else {
                        Kind::AssumedRole
                    }
                }
            };
            // The human: the source identity set when the chain began; for Identity Center
            // the session name (the user's name), else the user the session acts for.
            id.who = id
                .source_identity
                .clone()
                .or_else(|| session.clone())
                .or_else(|| on_behalf_of.map(|u| format!("user {u}")))
                .or_else(|| text(ui, "principalId").map(str::to_string))
                .unwrap_or_else(|| "?".into());
            id.session = session;
        }
        Some("FederatedUser") => {
            id.kind = Kind::FederatedUser;
            let name = arn
                .and_then(|a| a.split_once(":federated-user/"))
                .map(|(_, n)| n)
                .or_else(|| {
                    text(ui, "principalId").and_then(|p| p.split_once(':').map(|(_, n)| n))
                });
            id.who = name.unwrap_or("?").to_string();
            let issuer_user = issuer.and_then(|i| text(i, "userName"));
            id.via = Some(match issuer_user {
                Some(u) => format!("a federation token of {u}"),
                None => "a federation token".into(),
            });
        }
        Some("SAMLUser") | Some("WebIdentityUser") => {
            id.kind = if kind_text == Some("SAMLUser") {
                Kind::Saml
            } else {
                Kind::WebIdentity
            };
            id.who = text(ui, "userName")
                .or_else(|| text(ui, "principalId"))
                .unwrap_or("?")
                .to_string();
            id.role = request
                .and_then(|r| text(r, "roleArn"))
                .and_then(role_name)
                .map(str::to_string);
            id.via = id.role.clone();
            id.session = request
                .and_then(|r| text(r, "roleSessionName"))
                .map(str::to_string);
        }
        Some("AWSService") => {
            id.kind = Kind::AwsService;
            id.who = id
                .invoked_by
                .clone()
                .unwrap_or_else(|| "an AWS service".into());
            id.invoked_by = None;
        }
        Some("AWSAccount") => {
            id.kind = Kind::AwsAccount;
            id.who = match &id.account {
                Some(a) => format!("a principal of account {a}"),
                None => text(ui, "principalId").unwrap_or("?").to_string(),
            };
        }
        _ => {
            // `Unknown`, `IdentityCenterUser` and whatever comes next: the best name given.
            id.who = text(ui, "userName")
                .or(on_behalf_of)
                .or_else(|| arn.and_then(|a| a.rsplit('/').next()))
                .or_else(|| text(ui, "principalId"))
                .or(kind_text)
                .unwrap_or("?")
                .to_string();
        }
    }
    id.cross_account = matches!((&id.account, recipient), (Some(a), Some(r)) if a != r);
    id
}

fn cadf(initiator: &Value) -> Identity {
    let initiator_id = text(initiator, "id").unwrap_or("");
    let name = text(initiator, "name");
    let type_uri = text(initiator, "typeURI")
        .unwrap_or("")
        .to_ascii_lowercase();
    let kind = if initiator_id.starts_with("iam-ServiceId-") || type_uri.ends_with("/serviceid") {
        Kind::IbmServiceId
    } else if initiator_id.starts_with("iam-Profile-") {
        Kind::IbmTrustedProfile
    } else if initiator_id.starts_with("IBMid-")
        || type_uri.ends_with("/user")
        || type_uri == "user"
    {
        Kind::IbmUser
    } else if initiator_id.starts_with("crn") || type_uri.ends_with("/service") {
        Kind::IbmService
    } else {
        Kind::Unknown
    };
    let or_id = |n: Option<&str>| n.unwrap_or(initiator_id).to_string();
    let (who, via) = match kind {
        // Who assumed the profile: the user or compute resource that logged in.
        Kind::IbmTrustedProfile => (
            or_id(text(initiator, "authnName").or_else(|| text(initiator, "authnId"))),
            Some(or_id(name)),
        ),
        _ => (or_id(name), None),
    };
    Identity {
        kind,
        who: if who.is_empty() { "?".into() } else { who },
        via,
        role: None,
        session: None,
        source_identity: None,
        account: None,
        cross_account: false,
        invoked_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(record: Value) -> Identity {
        Identity::resolve(|k| record.get(k).map(Cow::Borrowed)).expect("an identity")
    }

    fn line(record: Value) -> String {
        of(record).describe(|a| (a == "444455556666").then(|| "tools".to_string()))
    }

    #[test]
    fn chains() {
        let cases: Vec<(Value, Kind, &str)> = vec![
            (
                json!({"recipientAccountId": "111122223333", "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}}),
                Kind::Root,
                "root",
            ),
            (
                json!({"userIdentity": {"type": "IAMUser", "userName": "alice", "accountId": "111122223333"}, "recipientAccountId": "111122223333"}),
                Kind::IamUser,
                "alice",
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice@example.com",
                    "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
                    "accountId": "111122223333",
                    "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_Admin_0123456789abcdef",
                        "arn": "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"}}},
                    "recipientAccountId": "111122223333"}),
                Kind::IdentityCenter,
                "alice@example.com via AWSReservedSSO_Admin",
            ),
            (
                // Identity Center without a session name: the user it acts for.
                json!({"userIdentity": {"type": "AssumedRole", "accountId": "111122223333",
                    "onBehalfOf": {"userId": "94482488-3041-7026-18f3-be45837cd0e4", "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-1"},
                    "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_ReadOnly_00000000000000aa"}}}}),
                Kind::IdentityCenter,
                "user 94482488-3041-7026-18f3-be45837cd0e4 via AWSReservedSSO_ReadOnly",
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:ci-42",
                    "arn": "arn:aws:sts::111122223333:assumed-role/deploy/ci-42", "accountId": "111122223333",
                    "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "deploy"}}}, "recipientAccountId": "111122223333"}),
                Kind::AssumedRole,
                "ci-42 via deploy",
            ),
            (
                // sourceIdentity names the human along a chain of roles.
                json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/deploy/ci-42", "accountId": "111122223333",
                    "sessionContext": {"sourceIdentity": "bob@example.com", "sessionIssuer": {"type": "Role", "userName": "deploy"}}}}),
                Kind::AssumedRole,
                "bob@example.com via deploy (session ci-42)",
            ),
            (
                json!({"userIdentity": {"type": "SAMLUser", "principalId": "SAML:carol@example.com", "userName": "carol@example.com",
                    "identityProvider": "arn:aws:iam::111122223333:saml-provider/Okta"},
                    "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/okta/Engineer", "principalArn": "arn:aws:iam::111122223333:saml-provider/Okta"}}),
                Kind::Saml,
                "carol@example.com via Engineer",
            ),
            (
                json!({"userIdentity": {"type": "WebIdentityUser", "principalId": "accounts.google.com:1234", "userName": "1234",
                    "identityProvider": "accounts.google.com"},
                    "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/web", "roleSessionName": "app"}}),
                Kind::WebIdentity,
                "1234 via web",
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/gha/run-7", "accountId": "111122223333",
                    "sessionContext": {"webIdFederationData": {"federatedProvider": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
                        "sessionIssuer": {"type": "Role", "userName": "gha"}}}}),
                Kind::WebIdentity,
                "run-7 via gha",
            ),
            (
                json!({"userIdentity": {"type": "FederatedUser", "principalId": "111122223333:mallory", "arn": "arn:aws:sts::111122223333:federated-user/mallory",
                    "accountId": "111122223333", "sessionContext": {"sessionIssuer": {"type": "IAMUser", "userName": "svc-broker"}}}}),
                Kind::FederatedUser,
                "mallory via a federation token of svc-broker",
            ),
            (
                // A role of another account calls in: say where it comes from.
                json!({"recipientAccountId": "111122223333", "userIdentity": {"type": "AssumedRole",
                    "arn": "arn:aws:sts::444455556666:assumed-role/Deployer/pipeline", "accountId": "444455556666",
                    "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Deployer"}}}}),
                Kind::AssumedRole,
                "pipeline via Deployer from tools (444455556666)",
            ),
            (
                json!({"recipientAccountId": "111122223333", "userIdentity": {"type": "AWSAccount", "principalId": "AIDAEXAMPLE", "accountId": "777788889999"}}),
                Kind::AwsAccount,
                "a principal of account 777788889999",
            ),
            (
                json!({"userIdentity": {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}}),
                Kind::AwsService,
                "cloudtrail.amazonaws.com",
            ),
            (
                json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/cfn-exec/AWSCloudFormation", "invokedBy": "cloudformation.amazonaws.com"}}),
                Kind::AssumedRole,
                "AWSCloudFormation via cfn-exec through cloudformation.amazonaws.com",
            ),
            (
                json!({"initiator": {"id": "iam-ServiceId-0f1e2d", "name": "ServiceId-ci", "typeURI": "service/security/account/serviceid"}}),
                Kind::IbmServiceId,
                "ServiceId-ci",
            ),
            (
                json!({"initiator": {"id": "IBMid-310000D73E", "name": "dana@example.com", "typeURI": "service/security/account/user"}}),
                Kind::IbmUser,
                "dana@example.com",
            ),
            (
                // Authorization failures leave the name empty: the id stands in.
                json!({"initiator": {"id": "IBMid-310000D73E", "name": "", "typeURI": "service/security/account/user"}}),
                Kind::IbmUser,
                "IBMid-310000D73E",
            ),
            (
                json!({"initiator": {"id": "iam-Profile-9a8b", "name": "k8s-workers", "authnId": "crn:v1:bluemix:public:containers-kubernetes:us-south:a/1::worker:w1", "authnName": "worker-1"}}),
                Kind::IbmTrustedProfile,
                "worker-1 via k8s-workers",
            ),
            (
                json!({"initiator": {"id": "crn-crn:v1:bluemix:public:kms:us-south:a/1:k::", "name": "Key Protect", "typeURI": "service/security/account/service"}}),
                Kind::IbmService,
                "Key Protect",
            ),
        ];
        for (record, kind, expected) in cases {
            let id = of(record.clone());
            assert_eq!(id.kind, kind, "{record}");
            assert_eq!(line(record.clone()), expected, "{record}");
        }
    }

    #[test]
    fn parts_are_kept() {
        let id = of(json!({"userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
            "accountId": "111122223333"}, "recipientAccountId": "111122223333"}));
        assert_eq!(
            id.role.as_deref(),
            Some("AWSReservedSSO_Admin_0123456789abcdef")
        );
        assert_eq!(id.session.as_deref(), Some("alice@example.com"));
        assert_eq!(id.account.as_deref(), Some("111122223333"));
        assert!(!id.cross_account);
        let v = id.to_value();
        assert_eq!(v["kind"], "identity-center");
        assert_eq!(v["who"], "alice@example.com");
        assert!(v.get("invoked_by").is_none());
    }

    #[test]
    fn odd_records_still_name_someone() {
        // No type, odd values: never a panic, always a name.
        for ui in [
            json!({}),
            json!({"type": 7}),
            json!({"type": "AssumedRole"}),
            json!({"type": "FederatedUser"}),
            json!("x"),
        ] {
            let id = of(json!({"userIdentity": ui}));
            assert!(!id.who.is_empty(), "{ui}");
        }
        assert!(Identity::resolve(|_| None).is_none());
    }
}
