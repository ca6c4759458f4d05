use kubeforge_examples::informer_tour::{Report, tour};

use crate::support::{client, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tour_reads_through_lister_and_index_and_replays_to_a_late_handler() {
    let server = server().await;
    let report = tour(client(&server), "default").await.expect("tour runs");
    assert_eq!(
        report,
        Report {
            with_team: 5,
            blue: vec!["tour-0".into(), "tour-2".into(), "tour-4".into()],
            first_team: Some("blue".into()),
            replayed: 5,
            both_saw_new: true,
        }
    );
}
