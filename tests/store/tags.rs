//! Tags in the store: set with a link, read with it, filtered on, listed with counters that
//! every change keeps exact, renamed, deleted, and counted in statistics.

use chrono::Utc;
use kurz::domain::{Cursor, TagName, TargetUrl};
use kurz::store::{
    NewUrl, PageRequest, StatsOf, StatsQuery, StoreError, TagFilter, TagQuery, Unique, UrlFilter,
    UrlPatch, UrlRecord,
};

use super::{first_page, fixture, visit, Backend, Fixture};

fn names(values: &[&str]) -> Vec<TagName> {
    values
        .iter()
        .map(|v| TagName::parse(v, "tags").unwrap())
        .collect()
}

fn shown(url: &UrlRecord) -> Vec<String> {
    url.tags.iter().map(ToString::to_string).collect()
}

impl Fixture {
    async fn tagged(&self, slug: &str, tags: &[&str], owner: Option<i64>) -> UrlRecord {
        self.store
            .create_url(NewUrl {
                created_by: owner,
                tags: names(tags),
                ..NewUrl::plain(
                    self.slug(slug),
                    TargetUrl::parse("https://example.com/", 2048).unwrap(),
                    Utc::now(),
                )
            })
            .await
            .unwrap()
    }

    async fn retag(&self, slug: &str, tags: &[&str]) -> UrlRecord {
        let patch = UrlPatch {
            tags: Some(names(tags)),
            ..UrlPatch::default()
        };
        self.store
            .update_url(&self.slug(slug), patch)
            .await
            .unwrap()
    }

    /// Every tag as (name, links, visits), in name order; an `owner`'s view with one.
    async fn tag_counts(&self, owner: Option<i64>) -> Vec<(String, i64, i64)> {
        let query = TagQuery {
            limit: 100,
            ..TagQuery::default()
        };
        let page = self.store.list_tags(&query, owner).await.unwrap();
        page.items
            .into_iter()
            .map(|t| (t.name.to_string(), t.links, t.visits))
            .collect()
    }

    async fn filtered(
        &self,
        tags: &[&str],
        all: bool,
        page: PageRequest,
    ) -> (Vec<String>, Option<Cursor>) {
        let filter = TagFilter {
            names: names(tags),
            all,
        };
        let page = self
            .store
            .list_tagged_urls(&filter, page, UrlFilter::default())
            .await
            .unwrap();
        (
            page.items.iter().map(|u| u.slug.to_string()).collect(),
            page.next,
        )
    }
}

fn counts(rows: &[(&str, i64, i64)]) -> Vec<(String, i64, i64)> {
    rows.iter()
        .map(|(n, l, v)| (n.to_string(), *l, *v))
        .collect()
}

async fn tags_are_stored_read_replaced_and_counted(backend: Backend) {
    let f = fixture(backend).await;
    let a = f.tagged("a", &["launch", "q4"], None).await;
    assert_eq!(shown(&a), ["launch", "q4"]);
    let b = f.tagged("b", &["q4"], None).await;
    f.tagged("plain", &[], None).await;
    assert_eq!(
        shown(&f.store.get_url(&f.slug("a")).await.unwrap()),
        ["launch", "q4"]
    );
    let listed = f
        .store
        .list_urls(first_page(10), UrlFilter::default())
        .await
        .unwrap();
    let tags: Vec<Vec<String>> = listed.items.iter().map(shown).collect();
    assert_eq!(
        tags,
        [
            vec![],
            vec!["q4".to_string()],
            vec!["launch".into(), "q4".into()]
        ]
    );
    let found = f.store.search_urls("a", 5, None).await.unwrap();
    assert_eq!(shown(&found[0]), ["launch", "q4"]);
    let oldest = f.store.urls_oldest_first(None, 10).await.unwrap();
    assert_eq!(shown(&oldest[0]), ["launch", "q4"]);

    // Visits count for every tag of their link, once per batch.
    let batch = [visit(a.id, 5), visit(a.id, 4), visit(b.id, 3)];
    f.store.record_visits(&batch).await.unwrap();
    assert_eq!(
        f.tag_counts(None).await,
        counts(&[("launch", 1, 2), ("q4", 2, 3)])
    );

    // A link that gains a tag brings its visits; one that loses its tag takes them along,
    // and a tag without links is gone.
    let changed = f.retag("a", &["q4", "spring"]).await;
    assert_eq!(shown(&changed), ["q4", "spring"]);
    assert_eq!(
        f.tag_counts(None).await,
        counts(&[("q4", 2, 3), ("spring", 1, 2)])
    );
    // A patch without tags leaves them.
    let patch = UrlPatch {
        crawlable: Some(true),
        ..UrlPatch::default()
    };
    let kept = f.store.update_url(&f.slug("a"), patch).await.unwrap();
    assert_eq!(shown(&kept), ["q4", "spring"]);

    // Pruning lowers the tags' visits with the links'.
    let tomorrow = Utc::now().date_naive().succ_opt().unwrap();
    f.store.prune_visits(tomorrow, 1000).await.unwrap();
    assert_eq!(
        f.tag_counts(None).await,
        counts(&[("q4", 2, 0), ("spring", 1, 0)])
    );
    f.store.record_visits(&[visit(b.id, 1)]).await.unwrap();

    // A deleted link leaves its tags' counters.
    f.store.delete_url(&f.slug("b")).await.unwrap();
    assert_eq!(
        f.tag_counts(None).await,
        counts(&[("q4", 1, 0), ("spring", 1, 0)])
    );
    assert!(f.retag("a", &[]).await.tags.is_empty());
    assert_eq!(f.tag_counts(None).await, counts(&[]));
}

async fn tag_filters_walk_pages_newest_first(backend: Backend) {
    let f = fixture(backend).await;
    // l0..l9: every link `even` or `odd`, every third also `three`.
    for i in 0..10 {
        let mut tags = vec![if i % 2 == 0 { "even" } else { "odd" }];
        if i % 3 == 0 {
            tags.push("three");
        }
        f.tagged(&format!("l{i}"), &tags, None).await;
    }
    let all = |limit| first_page(limit);
    assert_eq!(
        f.filtered(&["three"], false, all(10)).await.0,
        ["l9", "l6", "l3", "l0"]
    );
    assert_eq!(
        f.filtered(&["even", "three"], true, all(10)).await.0,
        ["l6", "l0"]
    );
    assert_eq!(
        f.filtered(&["odd", "three"], false, all(10)).await.0,
        ["l9", "l7", "l6", "l5", "l3", "l1", "l0"]
    );
    assert!(f.filtered(&["nope"], false, all(10)).await.0.is_empty());
    assert!(f
        .filtered(&["even", "nope"], true, all(10))
        .await
        .0
        .is_empty());
    assert_eq!(
        f.filtered(&["three", "nope"], false, all(10)).await.0.len(),
        4
    );

    // Pages of two, through the cursor, for each kind of filter.
    for (tags, every, expected) in [
        (vec!["even"], false, vec!["l8", "l6", "l4", "l2", "l0"]),
        (
            vec!["odd", "three"],
            false,
            vec!["l9", "l7", "l6", "l5", "l3", "l1", "l0"],
        ),
        (vec!["odd", "three"], true, vec!["l9", "l3"]),
    ] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = f
                .filtered(&tags, every, PageRequest { after, limit: 2 })
                .await;
            assert!(page.len() <= 2);
            seen.extend(page);
            match next {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{tags:?} all={every}");
    }

    // An editor's filter keeps its own links.
    let owned = f.api_key(kurz::domain::Role::Editor, "ed").await.0;
    f.tagged("mine", &["even"], Some(owned.id)).await;
    let filter = TagFilter {
        names: names(&["even", "odd"]),
        all: false,
    };
    let page = f
        .store
        .list_tagged_urls(
            &filter,
            first_page(10),
            UrlFilter {
                owner: Some(owned.id),
                ..UrlFilter::default()
            },
        )
        .await
        .unwrap();
    let slugs: Vec<String> = page.items.iter().map(|u| u.slug.to_string()).collect();
    assert_eq!(slugs, ["mine"]);
    assert_eq!(shown(&page.items[0]), ["even"]);
}

async fn tag_lists_page_by_name_search_prefixes_and_scope_editors(backend: Backend) {
    let f = fixture(backend).await;
    let editor = f.api_key(kurz::domain::Role::Editor, "ed").await.0;
    f.tagged("x1", &["alpha", "beta", "beta.2"], None).await;
    let mine = f.tagged("x2", &["beta", "gamma"], Some(editor.id)).await;
    f.store.record_visits(&[visit(mine.id, 1)]).await.unwrap();

    let mut names_seen = Vec::new();
    let mut after = None;
    loop {
        let query = TagQuery {
            prefix: None,
            after,
            limit: 2,
        };
        let page = f.store.list_tags(&query, None).await.unwrap();
        names_seen.extend(page.items.iter().map(|t| t.name.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(names_seen, ["alpha", "beta", "beta.2", "gamma"]);

    let query = TagQuery {
        prefix: Some("be".into()),
        after: None,
        limit: 10,
    };
    let found = f.store.list_tags(&query, None).await.unwrap();
    let found: Vec<String> = found.items.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(found, ["beta", "beta.2"]);

    assert_eq!(
        f.tag_counts(Some(editor.id)).await,
        counts(&[("beta", 1, 1), ("gamma", 1, 1)])
    );
    assert_eq!(f.tag_counts(None).await[1], ("beta".to_string(), 2, 1));
    let beta = names(&["beta"]).remove(0);
    assert_eq!(
        f.store.get_tag(&beta, Some(editor.id)).await.unwrap().links,
        1
    );
    assert_eq!(f.store.get_tag(&beta, None).await.unwrap().links, 2);
    let alpha = names(&["alpha"]).remove(0);
    assert!(matches!(
        f.store.get_tag(&alpha, Some(editor.id)).await,
        Err(StoreError::NotFound)
    ));
    let gamma = f.store.get_tag(&names(&["gamma"])[0], None).await.unwrap();
    assert!(!f
        .store
        .tag_used_by_others(gamma.id, editor.id)
        .await
        .unwrap());
    let beta = f.store.get_tag(&beta, None).await.unwrap();
    assert!(f
        .store
        .tag_used_by_others(beta.id, editor.id)
        .await
        .unwrap());
}

async fn tags_rename_with_conflicts_and_delete_from_every_link(backend: Backend) {
    let f = fixture(backend).await;
    f.tagged("r1", &["old", "other"], None).await;
    f.tagged("r2", &["old"], None).await;
    let (old, other, new) = (names(&["old"]), names(&["other"]), names(&["new"]));
    let renamed = f.store.rename_tag(&old[0], &new[0]).await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.links), ("new", 2));
    assert_eq!(
        shown(&f.store.get_url(&f.slug("r2")).await.unwrap()),
        ["new"]
    );
    assert!(matches!(
        f.store.rename_tag(&new[0], &other[0]).await,
        Err(StoreError::Conflict(Unique::TagName))
    ));
    assert!(matches!(
        f.store.rename_tag(&old[0], &names(&["x"])[0]).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(f.store.delete_tag(&new[0]).await.unwrap(), 2);
    assert_eq!(
        shown(&f.store.get_url(&f.slug("r1")).await.unwrap()),
        ["other"]
    );
    assert!(matches!(
        f.store.delete_tag(&new[0]).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(f.tag_counts(None).await, counts(&[("other", 1, 0)]));
}

async fn imports_carry_tags_in_their_transaction(backend: Backend) {
    let f = fixture(backend).await;
    f.tagged("exists", &["kept"], None).await;
    let new = |slug: &str, tags: &[&str]| NewUrl {
        tags: names(tags),
        ..NewUrl::plain(
            f.slug(slug),
            TargetUrl::parse("https://example.com/", 2048).unwrap(),
            Utc::now(),
        )
    };
    let batch = [
        new("i1", &["kept", "imported"]),
        new("exists", &["ignored"]),
        new("i2", &[]),
    ];
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    assert_eq!(
        shown(&f.store.get_url(&f.slug("i1")).await.unwrap()),
        ["imported", "kept"]
    );
    assert_eq!(
        shown(&f.store.get_url(&f.slug("exists")).await.unwrap()),
        ["kept"]
    );
    assert_eq!(
        f.tag_counts(None).await,
        counts(&[("imported", 1, 0), ("kept", 2, 0)])
    );
}

async fn tag_stats_sum_the_rollups_of_the_tags_links(backend: Backend) {
    let f = fixture(backend).await;
    let editor = f.api_key(kurz::domain::Role::Editor, "ed").await.0;
    let a = f.tagged("s1", &["t"], None).await;
    let b = f.tagged("s2", &["t"], Some(editor.id)).await;
    let c = f.tagged("s3", &[], None).await;
    f.store
        .record_visits(&[
            visit(a.id, 1),
            visit(a.id, 2),
            visit(b.id, 3),
            visit(c.id, 4),
        ])
        .await
        .unwrap();
    let tag = f.store.get_tag(&names(&["t"])[0], None).await.unwrap();
    let today = Utc::now().date_naive();
    let query = |of| StatsQuery {
        of,
        from: today.pred_opt().unwrap(),
        to: today,
        include_bots: false,
        top: 5,
    };
    let all = f
        .store
        .url_stats(query(StatsOf::Tag {
            id: tag.id,
            owner: None,
        }))
        .await
        .unwrap();
    assert_eq!(all.visits, 3);
    assert_eq!(all.browsers[0].visits, 3);
    assert_eq!(all.days.iter().map(|d| d.visits).sum::<i64>(), 3);
    let own = f
        .store
        .url_stats(query(StatsOf::Tag {
            id: tag.id,
            owner: Some(editor.id),
        }))
        .await
        .unwrap();
    assert_eq!(own.visits, 1);
    assert_eq!(own.referrer_hosts[0].visits, 1);
}

crate::on_both_backends!(
    tags_are_stored_read_replaced_and_counted,
    tag_filters_walk_pages_newest_first,
    tag_lists_page_by_name_search_prefixes_and_scope_editors,
    tags_rename_with_conflicts_and_delete_from_every_link,
    imports_carry_tags_in_their_transaction,
    tag_stats_sum_the_rollups_of_the_tags_links,
);
