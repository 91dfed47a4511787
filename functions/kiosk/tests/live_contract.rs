//! The live connections' contract: each case holds for the in-memory connections (which the
//! saga's in-process tests and the simulation run) and for `LiveConnections` on the template's
//! `LiveConnectionsTable` and the local cloud's `@connections` endpoint. The local cloud has no
//! page connected, so every send there meets a connection that has gone; the fake is told which
//! have (`hang_up`).

use cafe_kiosk::domain::{Board, LiveUpdate, Watch};
use cafe_kiosk::live::fake::MemoryLive;
use cafe_kiosk::live::{LiveConnections, LiveUpdates, Watcher, WatchingAs};
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;

/// The port, and a page that closed without saying so.
trait Subject: LiveUpdates {
    fn hang_up(&self, connection_id: &str);
}

impl Subject for MemoryLive {
    fn hang_up(&self, connection_id: &str) {
        self.gone.lock().unwrap().insert(connection_id.into());
    }
}

impl Subject for LiveConnections {
    fn hang_up(&self, _: &str) {}
}

async fn fake_live() -> MemoryLive {
    MemoryLive::default()
}

async fn dynamodb_live() -> LiveConnections {
    let tables = Tables::new(&["LiveConnectionsTable"]);
    LiveConnections::new(&tables.sdk().await, "live-api", tables.name("LiveConnectionsTable"))
}

cafe_testkit::contract!(
    fake: fake_live,
    dynamodb: dynamodb_live,
    cases: [
        a_watch_is_found_by_its_topic_with_whose_it_is,
        a_connection_watches_one_thing_at_a_time,
        a_forgotten_connection_watches_nothing,
        a_send_to_a_page_that_has_gone_forgets_it,
        a_closed_connection_is_forgotten,
        every_watcher_is_found_however_many_watch,
    ]
);

fn connection() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn order(id: &str) -> Watch {
    Watch::Order(id.into())
}

async fn watchers(live: &impl Subject, watch: &Watch) -> Vec<Watcher> {
    let mut found = live.watchers(watch).await.unwrap();
    found.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
    found
}

fn watcher(connection_id: &str, only_for: Option<&WatchingAs>) -> Watcher {
    Watcher {
        connection_id: connection_id.into(),
        only_for: only_for.cloned(),
    }
}

fn customer(customer_id: &str) -> WatchingAs {
    WatchingAs {
        customer_id: customer_id.into(),
        token_ends: 2_000_000_000,
        kiosk_id: Some("kiosk-1".into()),
    }
}

async fn a_watch_is_found_by_its_topic_with_whose_it_is(live: &impl Subject) {
    let (screen, phone, other) = (connection(), connection(), connection());
    live.watch(&screen, &Watch::Board, None).await.unwrap();
    let holder = customer("cust-1");
    live.watch(&phone, &order("o-1"), Some(&holder)).await.unwrap();
    live.watch(&other, &order("o-2"), None).await.unwrap();
    assert_eq!(watchers(live, &Watch::Board).await, [watcher(&screen, None)]);
    assert_eq!(watchers(live, &order("o-1")).await, [watcher(&phone, Some(&holder))]);
    assert!(watchers(live, &order("o-3")).await.is_empty());
}

async fn a_connection_watches_one_thing_at_a_time(live: &impl Subject) {
    let page = connection();
    live.watch(&page, &Watch::Board, None).await.unwrap();
    live.watch(&page, &order("o-1"), None).await.unwrap();
    assert!(
        watchers(live, &Watch::Board).await.is_empty(),
        "the second watch replaced the first"
    );
    assert_eq!(watchers(live, &order("o-1")).await, [watcher(&page, None)]);
}

async fn a_forgotten_connection_watches_nothing(live: &impl Subject) {
    let (page, stays) = (connection(), connection());
    live.watch(&page, &Watch::Board, None).await.unwrap();
    live.watch(&stays, &Watch::Board, None).await.unwrap();
    live.forget(&page).await.unwrap();
    assert_eq!(watchers(live, &Watch::Board).await, [watcher(&stays, None)]);
    live.forget(&connection())
        .await
        .expect("forgetting an unknown connection is no error");
}

async fn a_send_to_a_page_that_has_gone_forgets_it(live: &impl Subject) {
    let page = connection();
    live.watch(&page, &Watch::Board, None).await.unwrap();
    live.hang_up(&page);
    let board = LiveUpdate::Board {
        board: Board {
            making: vec![],
            ready: vec![],
        },
    };
    live.send(&page, &board).await.expect("a gone page is no error");
    assert!(watchers(live, &Watch::Board).await.is_empty(), "and it is forgotten");
}

async fn a_closed_connection_is_forgotten(live: &impl Subject) {
    let (page, stays) = (connection(), connection());
    live.watch(&page, &order("o-1"), Some(&customer("cust-1")))
        .await
        .unwrap();
    live.watch(&stays, &order("o-1"), None).await.unwrap();
    live.close(&page)
        .await
        .expect("closing a page is no error, gone or not");
    assert_eq!(watchers(live, &order("o-1")).await, [watcher(&stays, None)]);
}

async fn every_watcher_is_found_however_many_watch(live: &impl Subject) {
    // More than a page of the live table's index: no screen is crowded out by the others.
    let screens: Vec<String> = (0..1_200).map(|_| connection()).collect();
    for chunk in screens.chunks(100) {
        let watches = chunk.iter().map(|screen| live.watch(screen, &Watch::Board, None));
        for watched in futures::future::join_all(watches).await {
            watched.unwrap();
        }
    }
    let found = watchers(live, &Watch::Board).await;
    let mut expected = screens.clone();
    expected.sort();
    let found: Vec<String> = found.into_iter().map(|w| w.connection_id).collect();
    assert_eq!(found, expected);
}

/// With the table out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryLive {
        let live = MemoryLive::default();
        live.down.set(true);
        live
    }

    async fn dynamodb_down() -> LiveConnections {
        LiveConnections::new(&unreachable_cloud().await, "live-api", "live".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(live: &impl Subject) {
        assert!(live.watch("c-1", &Watch::Board, None).await.is_err());
        assert!(live.forget("c-1").await.is_err());
        assert!(live.watchers(&Watch::Board).await.is_err());
        assert!(live.close("c-1").await.is_err());
    }
}
