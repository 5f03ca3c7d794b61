//! Which connected accounts the `accounts` input names, and whether they can be posted to.
//! Pure: the answer of `GET /accounts` in, the accounts to post to (and those skipped, and
//! what to fix) out. A name that matches nothing or more than one account is an input
//! mistake; an inactive or unhealthy account is a problem to fix in PostEverywhere.

use crate::api::publish::Account;
use crate::config::publish::AccountSpec;

/// One thing that stops the post, with what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// An input mistake (exit 2), or the account's state (exit 4).
    pub input: bool,
    pub line: String,
}

/// What the accounts input comes to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolved {
    /// The accounts to post to, in the order named.
    pub targets: Vec<Account>,
    /// Accounts left out (`skip-unhealthy`), and why.
    pub skipped: Vec<(Account, String)>,
    /// Worth saying, not worth stopping for (a token that expires soon).
    pub warnings: Vec<String>,
}

/// Whether `@handle` names `a`: its username, or its display name when it has none (a
/// LinkedIn page), as its label shows it. Another account's handle that reads like this
/// one's display name is not this one.
fn handle_matches(a: &Account, handle: &str) -> bool {
    let h = handle.trim_start_matches('@');
    let same =
        |n: &Option<String>| n.as_deref().is_some_and(|n| n.trim_start_matches('@').eq_ignore_ascii_case(h));
    if a.username.is_some() { same(&a.username) } else { same(&a.display_name) }
}

fn list(accounts: &[&Account]) -> String {
    accounts.iter().map(|a| format!("{} (id {})", a.label(), a.id)).collect::<Vec<_>>().join(", ")
}

/// Resolves `specs` against the connected `accounts`.
pub fn resolve(
    specs: &[AccountSpec],
    accounts: &[Account],
    skip_unhealthy: bool,
) -> Result<Resolved, Vec<Problem>> {
    let mut named: Vec<&Account> = Vec::new();
    let mut problems = Vec::new();
    let connected = || {
        let all: Vec<&Account> = accounts.iter().collect();
        if all.is_empty() {
            "no account is connected".to_owned()
        } else {
            format!("connected: {}", list(&all))
        }
    };
    for spec in specs {
        let found: Vec<&Account> = match spec {
            AccountSpec::All => accounts.iter().filter(|a| a.active).collect(),
            AccountSpec::Id(n) => accounts.iter().filter(|a| a.id == *n).collect(),
            AccountSpec::Platform(p) => accounts.iter().filter(|a| a.platform == *p).collect(),
            AccountSpec::Handle { platform, handle } => {
                accounts.iter().filter(|a| a.platform == *platform && handle_matches(a, handle)).collect()
            }
        };
        match (spec, found.len()) {
            (AccountSpec::All, 0) => problems
                .push(Problem { input: false, line: format!("'all': no active account ({})", connected()) }),
            (_, 0) => problems.push(Problem {
                input: true,
                line: format!("'{spec}': no connected account matches; {}", connected()),
            }),
            (AccountSpec::Platform(p), n) if n > 1 => problems.push(Problem {
                input: true,
                line: format!(
                    "'{spec}': {n} {p} accounts are connected, {}; name one as {p}:@handle or by its id",
                    list(&found)
                ),
            }),
            (AccountSpec::Handle { .. }, n) if n > 1 => problems.push(Problem {
                input: true,
                line: format!("'{spec}': {n} accounts match, {}; name one by its id", list(&found)),
            }),
            _ => named.extend(found),
        }
    }
    let mut out = Resolved::default();
    for a in named {
        if out.targets.iter().any(|t| t.id == a.id) || out.skipped.iter().any(|(s, _)| s.id == a.id) {
            continue;
        }
        match a.unusable() {
            Some(why) if skip_unhealthy => out.skipped.push((a.clone(), why)),
            Some(why) => problems.push(Problem {
                input: false,
                line: format!(
                    "{} (id {}): {why}; reconnect or activate it in PostEverywhere, or set skip-unhealthy: true to post to the others",
                    a.label(),
                    a.id
                ),
            }),
            None => {
                let health = a.health.as_deref().unwrap_or("").to_ascii_lowercase();
                if matches!(health.as_str(), "expiring_critical" | "expiring" | "warning" | "rate_limited" | "api_error") {
                    out.warnings.push(format!("{} (id {}) reports health {health}; posting to it anyway", a.label(), a.id));
                }
                out.targets.push(a.clone());
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if out.targets.is_empty() {
        return Err(vec![Problem {
            input: false,
            line: "no account can be posted to: every account named needs reconnecting or activating in PostEverywhere".into(),
        }]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::publish::parse_accounts;

    fn acc(id: i64, platform: &str, user: &str, health: &str, active: bool) -> Account {
        Account {
            id,
            platform: platform.into(),
            username: (!user.is_empty()).then(|| user.into()),
            display_name: None,
            active,
            health: Some(health.into()),
            health_message: None,
            can_post: None,
        }
    }

    fn connected() -> Vec<Account> {
        vec![
            acc(1, "x", "brand", "healthy", true),
            acc(2, "linkedin", "brand", "healthy", true),
            acc(3, "instagram", "brand", "healthy", true),
            acc(4, "instagram", "other", "expiring_critical", true),
            acc(5, "tiktok", "brand", "expired", true),
            acc(6, "threads", "brand", "healthy", false),
        ]
    }

    fn ids(r: &Resolved) -> Vec<i64> {
        r.targets.iter().map(|a| a.id).collect()
    }

    #[test]
    fn names_ids_handles_and_all() {
        let c = connected();
        let r = resolve(&parse_accounts("x, linkedin, instagram:@brand, 4").unwrap(), &c, false).unwrap();
        assert_eq!(ids(&r), [1, 2, 3, 4]);
        assert!(r.warnings[0].contains("expiring_critical"));
        let r = resolve(&parse_accounts("all").unwrap(), &c, true).unwrap();
        assert_eq!(ids(&r), [1, 2, 3, 4], "all: every active account");
        assert_eq!(r.skipped.len(), 1, "the expired one is skipped and reported");
    }

    #[test]
    fn mistakes_are_input_problems_and_account_states_are_not() {
        let c = connected();
        let p = resolve(&parse_accounts("instagram").unwrap(), &c, false).unwrap_err();
        assert!(p[0].input && p[0].line.contains("2 instagram accounts are connected"), "{p:?}");
        let p = resolve(&parse_accounts("pinterest, 99").unwrap(), &c, false).unwrap_err();
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.input));
        let p = resolve(&parse_accounts("tiktok, threads").unwrap(), &c, false).unwrap_err();
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| !p.input));
        assert!(p[0].line.contains("reconnect or activate it"), "{}", p[0].line);
        let p = resolve(&parse_accounts("tiktok").unwrap(), &c, true).unwrap_err();
        assert!(p[0].line.contains("no account can be posted to"));
    }

    /// `@handle` names an account by its handle: an account with another handle whose
    /// display name happens to read the same is not it (posting there would post to an
    /// account never named); a display name stands for the handle only where there is none.
    #[test]
    fn a_handle_never_matches_another_accounts_display_name() {
        let named = |id, user: &str, display: &str| Account {
            username: (!user.is_empty()).then(|| user.into()),
            display_name: Some(display.into()),
            ..acc(id, "x", "", "healthy", true)
        };
        let news = named(7, "acme_news", "Acme");
        let p = resolve(&parse_accounts("x:@acme").unwrap(), std::slice::from_ref(&news), false).unwrap_err();
        assert!(p[0].input && p[0].line.contains("no connected account matches"), "{p:?}");
        let both = [news, named(8, "acme", "Acme Corp")];
        assert_eq!(ids(&resolve(&parse_accounts("x:@acme").unwrap(), &both, false).unwrap()), [8]);
        let page = [named(9, "", "Acme")];
        assert_eq!(ids(&resolve(&parse_accounts("x:@Acme").unwrap(), &page, false).unwrap()), [9]);
    }
}
