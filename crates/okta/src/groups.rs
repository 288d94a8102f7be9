//! Groups: the listing (with the type filter pushed into the query) and group members.

use usersync_core::{OktaGroup, OktaGroupId, OktaGroupType, OktaUserId};

use crate::users::Listing;
use crate::wire::{WireGroup, WireId};
use crate::{OktaClient, OktaError, path_with_query, quoted};

/// The `filter` expression selecting groups of the given types; `None` for every type.
pub(crate) fn type_filter(types: &[OktaGroupType]) -> Option<String> {
    let mut types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    (!types.is_empty()).then(|| {
        types
            .iter()
            .map(|t| format!("type eq {}", quoted(t)))
            .collect::<Vec<_>>()
            .join(" or ")
    })
}

impl OktaClient {
    /// The first page URL of the group listing.
    pub(crate) fn groups_url(&self, types: &[OktaGroupType], with_stats: bool) -> String {
        let mut pairs = vec![("limit", self.page_sizes.groups.to_string())];
        if let Some(filter) = type_filter(types) {
            pairs.push(("filter", filter));
        }
        if with_stats {
            pairs.push(("expand", "stats".to_owned()));
        }
        path_with_query("/api/v1/groups", &pairs)
    }

    /// Every group of the given types (every type when `types` is empty).
    ///
    /// # Errors
    /// The first failed page, after retries.
    pub async fn list_groups(
        &self,
        types: &[OktaGroupType],
    ) -> Result<Listing<OktaGroup>, OktaError> {
        let mut listing = Listing::default();
        self.paginate::<WireGroup>(self.groups_url(types, false), "list groups", |page| {
            for group in page {
                listing.push(group.into_group(), "group");
            }
        })
        .await?;
        Ok(listing)
    }

    /// The ids of every member of a group, one request per page.
    ///
    /// # Errors
    /// [`OktaError::NotFound`] when the group does not exist; other typed errors.
    pub async fn list_group_members(
        &self,
        group_id: &OktaGroupId,
    ) -> Result<Vec<OktaUserId>, OktaError> {
        let action = format!("list the members of group {group_id}");
        let ids = self
            .collect_all::<WireId>(self.members_url(group_id), &action)
            .await?;
        ids.into_iter()
            .map(|w| {
                OktaUserId::parse(w.id).map_err(|e| {
                    self.inner
                        .decode(&action, format!("a member has a bad id: {e}"))
                })
            })
            .collect()
    }

    pub(crate) fn members_url(&self, group_id: &OktaGroupId) -> String {
        path_with_query(
            &format!(
                "/api/v1/groups/{}/users",
                urlencoding::encode(group_id.as_str())
            ),
            &[("limit", self.page_sizes.group_members.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_filter_joins_each_type_with_or() {
        assert_eq!(type_filter(&[]), None);
        assert_eq!(
            type_filter(&[OktaGroupType::OktaGroup]).as_deref(),
            Some(r#"type eq "OKTA_GROUP""#)
        );
        assert_eq!(
            type_filter(&[
                OktaGroupType::OktaGroup,
                OktaGroupType::AppGroup,
                OktaGroupType::OktaGroup
            ])
            .as_deref(),
            Some(r#"type eq "APP_GROUP" or type eq "OKTA_GROUP""#)
        );
    }
}
