//! Who is calling, and what that caller may do. Every permission rule of the API is a method
//! here, so that handlers (and later endpoints) ask one place.

use std::net::IpAddr;

use crate::domain::Role;
use crate::http::error::ApiError;
use crate::http::rate_limit::Creator;
use crate::store::UrlRecord;

/// The caller of an API request: an API key with its role, or anonymous (when
/// `auth.allow_anonymous` lets requests without a key through, with `auth.anonymous_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous { role: Role },
    Key { id: i64, role: Role },
}

impl Caller {
    /// A caller without a key. An anonymous caller owns nothing, so an editor role (which may
    /// only touch what it owns) would be a viewer that may create; it is made a viewer.
    pub fn anonymous(role: Role) -> Self {
        let role = match role {
            Role::Editor => Role::Viewer,
            other => other,
        };
        Self::Anonymous { role }
    }

    pub fn key(id: i64, role: Role) -> Self {
        Self::Key { id, role }
    }

    pub fn role(&self) -> Role {
        match *self {
            Self::Anonymous { role } | Self::Key { role, .. } => role,
        }
    }

    /// The API key's id; `None` for an anonymous caller. What a new URL's `created_by` is.
    /// What this caller's creations count against: an anonymous caller's IP, an editor key,
    /// nothing for an admin key. (Viewers never create.)
    pub fn creator(&self, ip: IpAddr) -> Creator {
        match *self {
            Self::Anonymous { .. } => Creator::Client(ip),
            Self::Key {
                role: Role::Admin, ..
            } => Creator::Unlimited,
            Self::Key { id, .. } => Creator::Key(id),
        }
    }

    pub fn key_id(&self) -> Option<i64> {
        match *self {
            Self::Anonymous { .. } => None,
            Self::Key { id, .. } => Some(id),
        }
    }

    /// Whether this caller created the URL (only a key can own one).
    pub fn owns(&self, url: &UrlRecord) -> bool {
        self.key_id().is_some() && url.created_by == self.key_id()
    }

    /// Editors and admins create URLs; viewers do not.
    pub fn may_create(&self) -> bool {
        self.role() >= Role::Editor
    }

    /// Viewers and admins read every URL; an editor reads only the URLs it created.
    pub fn may_read_url(&self, url: &UrlRecord) -> bool {
        match self.role() {
            Role::Viewer | Role::Admin => true,
            Role::Editor => self.owns(url),
        }
    }

    /// Admins change and delete every URL; an editor only the URLs it created.
    pub fn may_change_url(&self, url: &UrlRecord) -> bool {
        match self.role() {
            Role::Viewer => false,
            Role::Editor => self.owns(url),
            Role::Admin => true,
        }
    }

    /// The owner lists must be limited to: `Some(key id)` for an editor (its own URLs and
    /// their visits), `None` for callers who see everything.
    pub fn owner_filter(&self) -> Option<i64> {
        match self.role() {
            Role::Editor => self.key_id(),
            Role::Viewer | Role::Admin => None,
        }
    }

    /// [`Self::may_create`], or 403.
    pub fn require_create(&self) -> Result<(), ApiError> {
        if self.may_create() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} may not create short links",
                self.role()
            )))
        }
    }

    /// What is not anyone's link (orphan visits, site-wide statistics) is for admins and
    /// viewers; an editor sees only its own links. 403 for an editor.
    pub fn require_site_wide(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Editor => Err(ApiError::Forbidden(
                "an editor sees only its own short links: orphan visits and site-wide \
                 statistics are for admins and viewers"
                    .into(),
            )),
            Role::Viewer | Role::Admin => Ok(()),
        }
    }

    /// [`Self::may_read_url`], or 403. (Slugs are public through redirects, so a 403 tells
    /// nothing a 404 would hide.)
    pub fn require_read_url(&self, url: &UrlRecord) -> Result<(), ApiError> {
        if self.may_read_url(url) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this key may only read the short links it created".into(),
            ))
        }
    }

    /// [`Self::may_change_url`], or 403.
    pub fn require_change_url(&self, url: &UrlRecord) -> Result<(), ApiError> {
        if self.may_change_url(url) {
            Ok(())
        } else if self.role() == Role::Viewer {
            Err(ApiError::Forbidden(
                "a viewer may not change short links".into(),
            ))
        } else {
            Err(ApiError::Forbidden(
                "this key may only change the short links it created".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{Slug, TargetUrl};

    #[test]
    fn creations_count_against_the_client_or_the_key_and_never_an_admin() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            Caller::anonymous(Role::Admin).creator(ip),
            Creator::Client(ip)
        );
        assert_eq!(Caller::key(7, Role::Editor).creator(ip), Creator::Key(7));
        assert_eq!(Caller::key(8, Role::Admin).creator(ip), Creator::Unlimited);
    }

    fn url(created_by: Option<i64>) -> UrlRecord {
        UrlRecord {
            id: 1,
            slug: Slug::for_lookup("abc").unwrap(),
            target: TargetUrl::from_stored("https://example.com/").unwrap(),
            title: None,
            crawlable: false,
            visit_count: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            created_by,
            redirect_status: None,
            valid_since: None,
            valid_until: None,
            max_visits: None,
            human_visits: 0,
            rules: None,
            forward_query: false,
            password_hash: None,
            bot_visits: 0,
            tags: Vec::new(),
        }
    }

    #[test]
    fn roles_allow_what_the_spec_says() {
        let viewer = Caller::key(1, Role::Viewer);
        let editor = Caller::key(2, Role::Editor);
        let admin = Caller::key(3, Role::Admin);
        let (mine, theirs, nobodys) = (url(Some(2)), url(Some(9)), url(None));

        assert!(!viewer.may_create() && editor.may_create() && admin.may_create());
        for u in [&mine, &theirs, &nobodys] {
            assert!(viewer.may_read_url(u) && !viewer.may_change_url(u));
            assert!(admin.may_read_url(u) && admin.may_change_url(u));
        }
        assert!(editor.may_read_url(&mine) && editor.may_change_url(&mine));
        assert!(!editor.may_read_url(&theirs) && !editor.may_change_url(&theirs));
        assert!(!editor.may_read_url(&nobodys) && !editor.may_change_url(&nobodys));

        assert_eq!(editor.owner_filter(), Some(2));
        assert_eq!(viewer.owner_filter(), None);
        assert_eq!(admin.owner_filter(), None);
    }

    #[test]
    fn anonymous_callers_own_nothing() {
        let admin = Caller::anonymous(Role::Admin);
        assert_eq!(admin.key_id(), None);
        assert!(admin.may_change_url(&url(None)));
        assert_eq!(Caller::anonymous(Role::Editor).role(), Role::Viewer);
        assert!(!Caller::anonymous(Role::Viewer).owns(&url(None)));
    }
}
