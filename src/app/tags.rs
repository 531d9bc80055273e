//! Tags as a whole: renaming one and deleting one, on every link that carries it. (A link's
//! own tags are set with the link, in `links.rs`.) The redirect cache holds no tags, so
//! neither change is announced to it.

use std::sync::Arc;

use super::AppError;
use crate::domain::TagName;
use crate::store::{Store, StoreError, TagRecord, Unique};

pub struct Tagging {
    store: Arc<dyn Store>,
}

impl Tagging {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The tag named `name` (as typed in a path: anything else is no tag), with its counters
    /// over an `editor`'s own links when one asks.
    pub async fn get(&self, name: &str, editor: Option<i64>) -> Result<TagRecord, AppError> {
        let missing = || AppError::NoSuchTag(name.to_owned());
        let parsed = TagName::parse(name, "name").map_err(|_| missing())?;
        self.store
            .get_tag(&parsed, editor)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => missing(),
                other => other.into(),
            })
    }

    /// Renames a tag on every link. An `editor` may rename only a tag none but its own links
    /// carry. Renaming onto an existing name is [`AppError::TagExists`].
    #[tracing::instrument(skip(self))]
    pub async fn rename(
        &self,
        name: &str,
        to: &str,
        editor: Option<i64>,
    ) -> Result<TagRecord, AppError> {
        let to = TagName::parse(to, "name")?;
        let tag = self.changeable(name, editor).await?;
        if tag.name == to {
            return Ok(tag);
        }
        self.store
            .rename_tag(&tag.name, &to)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(Unique::TagName) => AppError::TagExists(to.to_string()),
                StoreError::NotFound => AppError::NoSuchTag(name.to_owned()),
                other => other.into(),
            })
    }

    /// Takes a tag from every link and deletes it; how many links carried it. An `editor`
    /// may delete only a tag none but its own links carry.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, name: &str, editor: Option<i64>) -> Result<i64, AppError> {
        let tag = self.changeable(name, editor).await?;
        self.store
            .delete_tag(&tag.name)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => AppError::NoSuchTag(name.to_owned()),
                other => other.into(),
            })
    }

    async fn changeable(&self, name: &str, editor: Option<i64>) -> Result<TagRecord, AppError> {
        let tag = self.get(name, editor).await?;
        if let Some(editor) = editor {
            if self.store.tag_used_by_others(tag.id, editor).await? {
                return Err(AppError::TagShared(tag.name.to_string()));
            }
        }
        Ok(tag)
    }
}
